"""qa.citation: a passage quoted verbatim at its offsets, and its key sentence (or pair) chosen."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from qa.citation import candidates, cite, highlight, quote
from qa.engine import Engine
from qa.query import Query
from qa.ranking import Ranking, rank

QUESTION = "Qu'est-ce que la ferroptose ?"


def ranked(engine: Engine, question: str = QUESTION) -> tuple[Query, Ranking]:
    query = replace(engine.query(question), metadata=False)
    return query, rank(engine.corpus, query, engine.tuning)


def test_a_citation_quotes_the_article_at_its_offsets(seed_engine: Engine):
    corpus = seed_engine.corpus
    query, ranking = ranked(seed_engine)
    top = int(ranking.order[0])
    citation = quote(corpus, seed_engine.tuning, ranking, query, count=1).citations[0]
    source = corpus.article(top).source
    assert citation.rank == 1 and citation.article == corpus.article(top).id
    assert source[citation.start : citation.end] == citation.text
    assert source[citation.highlight_start : citation.highlight_end] == citation.highlight
    assert citation.start <= citation.highlight_start < citation.highlight_end <= citation.end
    assert citation.scores.fused == citation.score == float(ranking.fused[top])


def test_a_quotation_cites_the_first_passages_in_order(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    query, ranking = ranked(seed_engine)
    quotation = quote(corpus, tuning, ranking, query, count=3)
    shown = [int(i) for i in ranking.order[:3]]
    assert [c.rank for c in quotation.citations] == [1, 2, 3]
    assert [(c.start, c.end) for c in quotation.citations] == [
        (corpus.passage(i).start, corpus.passage(i).end) for i in shown
    ]
    first = highlight(corpus, tuning, passage=shown[0], unit_scores=ranking.unit_scores, terms=query.asked)
    assert quotation.margin == first.margin
    assert (quotation.citations[0].highlight_start, quotation.citations[0].highlight_end) == (
        first.span.start,
        first.span.end,
    )


def test_a_given_sentence_is_quoted_as_the_highlight(seed_engine: Engine):
    corpus = seed_engine.corpus
    _, ranking = ranked(seed_engine)
    top = int(ranking.order[0])
    last = corpus.passage(top).sentences[-1]
    citation = cite(corpus, ranking, passage=top, rank=1, highlight=last)
    assert (citation.highlight_start, citation.highlight_end) == (last.start, last.end)


def test_the_highlight_is_the_best_candidate_and_a_pair_pays_its_margin(seed_engine: Engine):
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    query, ranking = ranked(seed_engine)
    top, units, terms = int(ranking.order[0]), ranking.unit_scores, query.terms
    scored = candidates(corpus, tuning, passage=top, unit_scores=units, terms=terms)
    sentences = corpus.passage(top).sentences
    assert [span for span, _ in scored[: len(sentences)]] == list(sentences)
    pairs = scored[len(sentences) :]
    assert len(pairs) == max(len(sentences) - 1, 0)
    best = max(scored, key=lambda c: c[1])
    assert highlight(corpus, tuning, passage=top, unit_scores=units, terms=terms).span == best[0]
    ordered = sorted((s for _, s in scored), reverse=True)
    expected = ordered[0] - ordered[1] if len(ordered) > 1 else math.inf
    assert highlight(corpus, tuning, passage=top, unit_scores=units, terms=terms).margin == expected
    # a pair is scored on its unit less the margin: with equal unit scores a sentence wins
    flat = np.where(ranking.unit_scores > -1, 0.5, -1.0).astype(np.float32)
    even = candidates(corpus, tuning, passage=top, unit_scores=flat, terms=[])
    if len(sentences) > 1:
        assert max(even, key=lambda c: c[1])[0] in sentences


def test_the_question_words_tip_the_highlight(seed_engine: Engine):
    """With every unit equally close, the sentence holding the question's words is the highlight."""
    corpus, tuning = seed_engine.corpus, seed_engine.tuning
    tipped = 0
    for question in (QUESTION, "indole-3-carbinol", "anticorps-médicament", "cellules persistantes"):
        query, ranking = ranked(seed_engine, question)
        terms = query.terms
        top = int(ranking.order[0])
        flat = np.where(ranking.unit_scores > -1, 0.5, -1.0).astype(np.float32)
        chosen = highlight(corpus, tuning, passage=top, unit_scores=flat, terms=terms).span
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
