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

from qa.corpus import BODY, METADATA, SUMMARY, Corpus
from qa.lexical import QueryTerm
from qa.settings import Tuning


@dataclass(frozen=True)
class Ranking:
    """Passages (global ids) in order, and every passage's dense, lexical and fused scores.

    ``unit_scores`` holds the cosine of each unit of the candidate passages (-1 elsewhere).
    """

    order: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    fused: np.ndarray
    unit_scores: np.ndarray

    def margin(self, among: np.ndarray | None = None, by: np.ndarray | None = None) -> float:
        """How far the first passage leads the next in fused score: the gap a tie would close.

        ``among`` (a flag per passage): only those passages compete. ``by`` (a label per passage):
        passages labelled as the first (its article) are not its rivals. ``inf`` without a rival.
        """
        order = self.order if among is None else self.order[among[self.order]]
        if not len(order):
            return math.inf
        rivals = order[1:] if by is None else order[by[order] != by[order[0]]]
        return float(self.fused[order[0]] - self.fused[rivals[0]]) if len(rivals) else math.inf


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """``dense + weight · lexical / max(lexical)``: dense ranks, lexical breaks near-ties."""
    top = float(lexical.max()) if len(lexical) else 0.0
    return dense + weight * (lexical / top if top > 0 else 0.0)


def apply_priors(
    fused: np.ndarray, kinds: np.ndarray, candidates: np.ndarray, summary_margin: float
) -> np.ndarray:
    """Lower summary passages by ``summary_margin`` when a body passage is among the candidates."""
    adjusted = fused.copy()
    has_body = bool(np.any(kinds[candidates] == BODY))
    if has_body and summary_margin:
        summaries = candidates[kinds[candidates] == SUMMARY]
        adjusted[summaries] -= summary_margin
    return adjusted


def rank(
    corpus: Corpus,
    query: np.ndarray,
    terms: list[QueryTerm],
    tuning: Tuning,
    metadata: bool,
    scope: int | None = None,
) -> Ranking:
    """Rank passages by fused score after the priors.

    Candidates are the passages of FAISS's nearest units and those BM25 finds. Metadata competes
    only for questions about the article itself; with ``scope`` (an article's number), only the
    passages of that article do.
    """
    lexical = corpus.lexical.scores(terms)
    _, neighbours = corpus.index.search(query, tuning.ranking.candidate_units)
    found = set(corpus.unit_passage[neighbours].tolist()) | set(np.flatnonzero(lexical > 0).tolist())
    candidates = np.array(sorted(found), dtype=int)
    if scope is not None:
        candidates = candidates[corpus.passage_article[candidates] == scope]
    if not metadata:
        candidates = candidates[corpus.kinds[candidates] != METADATA]
    if not len(candidates):  # nothing found in scope, or only metadata: offer every passage
        everything = np.arange(len(corpus.passages))
        candidates = everything if scope is None else everything[corpus.passage_article == scope]
    unit_scores = np.full(len(corpus.index.units), -1.0, dtype=np.float32)
    dense = np.full(len(corpus.passages), -1.0, dtype=np.float32)
    for i in candidates:
        ids = corpus.passage_units[i]
        unit_scores[ids] = corpus.vectors[ids] @ query
        dense[i] = unit_scores[ids].max()
    fused = fuse(dense, lexical, tuning.ranking.lexical_weight)
    ranked = apply_priors(fused, corpus.kinds, candidates, tuning.ranking.summary_margin)
    order = candidates[np.argsort(-ranked[candidates], kind="stable")]
    return Ranking(order, dense, lexical, ranked, unit_scores)
