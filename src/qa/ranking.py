"""Ranking passages for a question: dense MaxP, BM25 fusion, and the document-structure priors.

A passage's dense score is its best unit's cosine ("MaxP": the passage whole, a sentence, a pair).
BM25 over passages is added with a small weight: ``dense + w · bm25 / max(bm25)``. Two priors
follow the shape of a news article:

- a *summary* passage (the introduction of an article that has sections) names every section's
  topic in general words, so for a paraphrased question it sits within a few thousandths of the
  section that develops the answer; it must beat the best body passage by ``summary_margin``;
- *metadata* (title, byline, credit line) answers only questions about the article itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qa.article import PassageKind
from qa.corpus import Corpus
from qa.query import Query
from qa.settings import Tuning


@dataclass(frozen=True, kw_only=True)
class Ranking:
    """Passages (global ids) in order, every passage's dense, lexical and fused scores, and margins.

    ``unit_scores`` holds the cosine of each unit of the candidate passages (-1 elsewhere).
    ``fused`` is the score after the priors: what orders the passages.
    """

    order: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    fused: np.ndarray
    unit_scores: np.ndarray
    margin: float  # how far the first passage leads the next (:func:`lead`)
    # For a question about the article itself: how far the first metadata passage leads the
    # first of another article (its article's line is the answer); ``inf`` for other questions.
    article_margin: float


def lead(
    fused: np.ndarray, order: np.ndarray, among: np.ndarray | None = None, by: np.ndarray | None = None
) -> float:
    """How far the first passage of ``order`` leads the next in ``fused``: the gap a tie would close.

    ``among`` (a flag per passage): only those passages compete. ``by`` (a label per passage):
    passages labelled as the first (its article) are not its rivals. ``inf`` without a rival.
    """
    order = order if among is None else order[among[order]]
    if not len(order):
        return math.inf
    rivals = order[1:] if by is None else order[by[order] != by[order[0]]]
    return float(fused[order[0]] - fused[rivals[0]]) if len(rivals) else math.inf


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """``dense + weight · lexical / max(lexical)``: dense ranks, lexical breaks near-ties."""
    top = float(lexical.max()) if len(lexical) else 0.0
    return dense + weight * (lexical / top if top > 0 else 0.0)


def apply_priors(
    fused: np.ndarray, kinds: np.ndarray, candidates: np.ndarray, summary_margin: float
) -> np.ndarray:
    """Lower summary passages by ``summary_margin`` when a body passage is among the candidates."""
    adjusted = fused.copy()
    has_body = bool(np.any(kinds[candidates] == PassageKind.BODY))
    if has_body and summary_margin:
        summaries = candidates[kinds[candidates] == PassageKind.SUMMARY]
        adjusted[summaries] -= summary_margin
    return adjusted


def candidate_passages(corpus: Corpus, query: Query, lexical: np.ndarray, tuning: Tuning) -> np.ndarray:
    """The passages worth scoring: those of FAISS's nearest units, and those BM25 finds (``lexical``).

    Metadata competes only when ``query.metadata`` (a question about the article itself); with
    ``query.scope`` (an article's number), only the passages of that article do.
    """
    _, neighbours = corpus.index.search(query.vector, tuning.ranking.candidate_units)
    found = set(corpus.unit_passage[neighbours].tolist()) | set(np.flatnonzero(lexical > 0).tolist())
    chosen = np.array(sorted(found), dtype=int)
    if query.scope is not None:
        chosen = chosen[corpus.passage_article[chosen] == query.scope]
    if not query.metadata:
        chosen = chosen[corpus.kinds[chosen] != PassageKind.METADATA]
    if not len(chosen):  # nothing found in scope, or only metadata: offer every passage
        everything = np.arange(len(corpus.passages))
        chosen = everything if query.scope is None else everything[corpus.passage_article == query.scope]
    return chosen


def rank(corpus: Corpus, query: Query, tuning: Tuning) -> Ranking:
    """Rank the :func:`candidate_passages` by fused score after the priors; measure the margins."""
    lexical = corpus.lexical.scores(query.terms)
    chosen = candidate_passages(corpus, query, lexical, tuning)
    unit_scores = np.full(len(corpus.index.units), -1.0, dtype=np.float32)
    dense = np.full(len(corpus.passages), -1.0, dtype=np.float32)
    for i in chosen:
        ids = corpus.passage_units[i]
        unit_scores[ids] = corpus.vectors[ids] @ query.vector
        dense[i] = unit_scores[ids].max()
    fused = fuse(dense, lexical, tuning.ranking.lexical_weight)
    ranked = apply_priors(fused, corpus.kinds, chosen, tuning.ranking.summary_margin)
    order = chosen[np.argsort(-ranked[chosen], kind="stable")]
    about = corpus.kinds == PassageKind.METADATA
    article_margin = lead(ranked, order, about, corpus.passage_article) if query.fields else math.inf
    return Ranking(
        order=order,
        dense=dense,
        lexical=lexical,
        fused=ranked,
        unit_scores=unit_scores,
        margin=lead(ranked, order),
        article_margin=article_margin,
    )
