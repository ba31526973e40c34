"""qa.citation: a passage quoted verbatim at its offsets, and its key sentence (or pair) chosen."""

from __future__ import annotations

import math

import numpy as np

from qa.citation import candidates, cite, highlight, highlight_margin
from qa.engine import Engine
from qa.ranking import rank

QUESTION = "Qu'est-ce que la ferroptose ?"


def ranked(engine: Engine, question: str = QUESTION):
    corpus = engine.corpus
    terms = corpus.lexical.analyse(question)
    query = engine.encoder.encode_queries([question])[0]
    return terms, rank(corpus, query, terms, engine.tuning, metadata=False)


def test_a_citation_quotes_the_article_at_its_offsets(seed_engine: Engine):
    corpus = seed_engine.corpus
    terms, ranking = ranked(seed_engine)
    top = int(ranking.order[0])
    citation = cite(corpus, seed_engine.tuning, 1, top, ranking, terms)
    source = corpus.article(top).source
    assert citation.rank == 1 and citation.article == corpus.article(top).id
    assert source[citation.start : citation.end] == citation.text
    assert source[citation.highlight_start : citation.highlight_end] == citation.highlight
    assert citation.start <= citation.highlight_start < citation.highlight_end <= citation.end
    assert citation.scores.fused == citation.score == float(ranking.fused[top])


def test_a_given_sentence_is_quoted_as_the_highlight(seed_engine: Engine):
    corpus = seed_engine.corpus
    terms, ranking = ranked(seed_engine)
    top = int(ranking.order[0])
    last = corpus.passage(top).sentences[-1]
    citation = cite(corpus, seed_engine.tuning, 1, top, ranking, terms, sentence=last)
    assert (citation.highlight_start, citation.highlight_end) == (last.start, last.end)


def test_the_highlight_is_the_best_candidate_and_a_pair_pays_its_margin(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    terms, ranking = ranked(seed_engine)
    top = int(ranking.order[0])
    scored = candidates(corpus, tuning, top, ranking.unit_scores, terms)
    sentences = corpus.passage(top).sentences
    assert [span for span, _ in scored[: len(sentences)]] == list(sentences)
    pairs = scored[len(sentences) :]
    assert len(pairs) == max(len(sentences) - 1, 0)
    best = max(scored, key=lambda c: c[1])
    assert highlight(corpus, tuning, top, ranking.unit_scores, terms) == best[0]
    ordered = sorted((s for _, s in scored), reverse=True)
    expected = ordered[0] - ordered[1] if len(ordered) > 1 else math.inf
    assert highlight_margin(corpus, tuning, top, ranking.unit_scores, terms) == expected
    # a pair is scored on its unit less the margin: with equal unit scores a sentence wins
    flat = np.where(ranking.unit_scores > -1, 0.5, -1.0).astype(np.float32)
    even = candidates(corpus, tuning, top, flat, [])
    if len(sentences) > 1:
        assert max(even, key=lambda c: c[1])[0] in sentences


def test_the_question_words_tip_the_highlight(seed_engine: Engine):
    """With every unit equally close, the sentence holding the question's words is the highlight."""
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    tipped = 0
    for question in (QUESTION, "indole-3-carbinol", "anticorps-médicament", "cellules persistantes"):
        terms, ranking = ranked(seed_engine, question)
        top = int(ranking.order[0])
        flat = np.where(ranking.unit_scores > -1, 0.5, -1.0).astype(np.float32)
        chosen = highlight(corpus, tuning, top, flat, terms)
        wanted = {t.stem for t in terms if t.stem}
        sentences = corpus.passage(top).sentences
        holding = [
            span
            for span, stems in zip(sentences, corpus.sentence_stems[top], strict=True)
            if wanted & set(stems)
        ]
        if holding and len(holding) < len(sentences):
            tipped += 1
            assert any(chosen.start <= span.start and span.end <= chosen.end for span in holding), question
    assert tipped  # at least one question where the words decide
