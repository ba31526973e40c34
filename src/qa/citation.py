"""Citations: a ranked passage quoted verbatim, with its place in the article and its key sentence.

The highlight is the sentence of the passage closest to the question (its unit's cosine), helped
by the question's words it shares (IDF-weighted); two neighbouring sentences are highlighted
together when their pair matches clearly better than any one alone. A highlight carries its
margin, how far it leads the next candidate: the engine's answers are certified by it
(:mod:`qa.engine`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer import Citation, Scores
from qa.article import Span
from qa.corpus import Corpus
from qa.lexical import QueryTerm
from qa.query import Query
from qa.ranking import Ranking
from qa.settings import Tuning


@dataclass(frozen=True, kw_only=True)
class Highlight:
    """A passage's key sentence (or pair of sentences), and how far it leads the next candidate."""

    span: Span
    margin: float  # the gap a tie would close; ``inf`` for a passage of one sentence


@dataclass(frozen=True, kw_only=True)
class Quotation:
    """The first passages cited, and how far the first one's highlight leads its next candidate."""

    citations: list[Citation]
    margin: float


def cite(corpus: Corpus, ranking: Ranking, *, passage: int, rank: int, highlight: Span) -> Citation:
    """Passage ``passage`` quoted at ``rank``, ``highlight`` marked in it, with its ranking scores."""
    article, quoted = corpus.article(passage), corpus.passage(passage)
    scores = Scores(
        dense=float(ranking.dense[passage]),
        lexical=float(ranking.lexical[passage]),
        fused=float(ranking.fused[passage]),
    )
    return Citation(
        rank=rank,
        article=article.id,
        section=quoted.title,
        text=article.text(quoted),
        highlight=article.text(highlight),
        start=quoted.start,
        end=quoted.end,
        score=scores.fused,
        highlight_start=highlight.start,
        highlight_end=highlight.end,
        scores=scores,
    )


def quote(corpus: Corpus, tuning: Tuning, ranking: Ranking, query: Query, *, count: int) -> Quotation:
    """The first ``count`` passages of ``ranking`` cited, each with the highlight the question's words tip."""
    shown = [int(i) for i in ranking.order[:count]]
    marks = [
        highlight(corpus, tuning, passage=i, unit_scores=ranking.unit_scores, terms=query.asked)
        for i in shown
    ]
    citations = [
        cite(corpus, ranking, passage=i, rank=rank, highlight=mark.span)
        for rank, (i, mark) in enumerate(zip(shown, marks, strict=True), 1)
    ]
    return Quotation(citations=citations, margin=marks[0].margin if marks else math.inf)


def candidates(
    corpus: Corpus, tuning: Tuning, *, passage: int, unit_scores: np.ndarray, terms: Sequence[QueryTerm]
) -> list[tuple[Span, float]]:
    """Every sentence of ``passage``, then every pair of neighbours, with its highlight score.

    A sentence scores its unit's cosine plus the question's words it holds; a pair, the same less
    ``Tuning.highlight.pair_margin``, so that it wins only when clearly better than any one sentence.
    """
    sentences = corpus.passage(passage).sentences
    scores = {
        (u.kind, u.start, u.end): float(unit_scores[j])
        for j in corpus.passage_units[passage]
        if (u := corpus.index.units[j]).kind in ("sentence", "pair")
    }
    wanted = {t.stem: corpus.lexical.idf(t.stem) for t in terms if t.stem}
    total = sum(wanted.values()) or 1.0
    overlaps = [
        sum(v for k, v in wanted.items() if k in stems) / total for stems in corpus.sentence_stems[passage]
    ]
    weight = tuning.highlight.lexical_weight
    out = [
        (span, scores.get(("sentence", span.start, span.end), -1.0) + weight * overlap)
        for span, overlap in zip(sentences, overlaps, strict=True)
    ]
    pairs = zip(sentences, sentences[1:], overlaps, overlaps[1:], strict=False)
    for first, second, left, right in pairs:
        score = scores.get(("pair", first.start, second.end), -1.0) + weight * max(left, right)
        out.append((Span(first.start, second.end), score - tuning.highlight.pair_margin))
    return out


def highlight(
    corpus: Corpus, tuning: Tuning, *, passage: int, unit_scores: np.ndarray, terms: Sequence[QueryTerm]
) -> Highlight:
    """The sentence (or pair) of ``passage`` closest to the question, the first best, and its lead."""
    scored = candidates(corpus, tuning, passage=passage, unit_scores=unit_scores, terms=terms)
    best = max(scored, key=lambda c: c[1])[0]
    ordered = sorted((s for _, s in scored), reverse=True)
    return Highlight(span=best, margin=ordered[0] - ordered[1] if len(ordered) > 1 else math.inf)
