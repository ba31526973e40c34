"""Citations: a ranked passage quoted verbatim, with its place in the article and its key sentence.

The highlight is the sentence of the passage closest to the question (its unit's cosine), helped
by the question's words it shares (IDF-weighted); two neighbouring sentences are highlighted
together when their pair matches clearly better than any one alone.
"""

from __future__ import annotations

import math

import numpy as np

from qa.answer import Citation, Scores
from qa.article import Span
from qa.corpus import Corpus
from qa.lexical import QueryTerm
from qa.ranking import Ranking
from qa.settings import Tuning


def cite(
    corpus: Corpus,
    tuning: Tuning,
    rank: int,
    i: int,
    ranking: Ranking,
    terms: list[QueryTerm],
    sentence: Span | None = None,
) -> Citation:
    """Passage ``i`` cited at ``rank``, its highlight ``sentence`` or the one :func:`highlight` picks."""
    article, passage = corpus.article(i), corpus.passage(i)
    sentence = sentence or highlight(corpus, tuning, i, ranking.unit_scores, terms)
    scores = Scores(float(ranking.dense[i]), float(ranking.lexical[i]), float(ranking.fused[i]))
    return Citation(
        rank=rank,
        article=article.id,
        section=passage.title,
        text=article.text(passage),
        highlight=article.text(sentence),
        start=passage.start,
        end=passage.end,
        score=scores.fused,
        highlight_start=sentence.start,
        highlight_end=sentence.end,
        scores=scores,
    )


def candidates(
    corpus: Corpus, tuning: Tuning, i: int, unit_scores: np.ndarray, terms: list[QueryTerm]
) -> list[tuple[Span, float]]:
    """Every sentence of passage ``i``, then every pair of neighbours, with its highlight score.

    A sentence scores its unit's cosine plus the question's words it holds; a pair, the same less
    ``Tuning.highlight.pair_margin``, so that it wins only when clearly better than any one sentence.
    """
    passage = corpus.passage(i)
    scores = {
        (u.kind, u.start, u.end): float(unit_scores[j])
        for j in corpus.passage_units[i]
        if (u := corpus.index.units[j]).kind in ("sentence", "pair")
    }
    wanted = {t.stem: corpus.lexical.idf(t.stem) for t in terms if t.stem}
    total = sum(wanted.values()) or 1.0
    overlaps = [sum(v for k, v in wanted.items() if k in stems) / total for stems in corpus.sentence_stems[i]]
    weight = tuning.highlight.lexical_weight
    out = [
        (span, scores.get(("sentence", span.start, span.end), -1.0) + weight * overlap)
        for span, overlap in zip(passage.sentences, overlaps, strict=True)
    ]
    pairs = zip(passage.sentences, passage.sentences[1:], overlaps, overlaps[1:], strict=False)
    for first, second, left, right in pairs:
        score = scores.get(("pair", first.start, second.end), -1.0) + weight * max(left, right)
        out.append((Span(first.start, second.end), score - tuning.highlight.pair_margin))
    return out


def highlight(
    corpus: Corpus, tuning: Tuning, i: int, unit_scores: np.ndarray, terms: list[QueryTerm]
) -> Span:
    """The sentence (or pair of sentences) of passage ``i`` closest to the question: the first best."""
    return max(candidates(corpus, tuning, i, unit_scores, terms), key=lambda c: c[1])[0]


def highlight_margin(
    corpus: Corpus, tuning: Tuning, i: int, unit_scores: np.ndarray, terms: list[QueryTerm]
) -> float:
    """How far passage ``i``'s highlight leads the next candidate: the gap a tie would close."""
    scores = sorted((s for _, s in candidates(corpus, tuning, i, unit_scores, terms)), reverse=True)
    return scores[0] - scores[1] if len(scores) > 1 else math.inf
