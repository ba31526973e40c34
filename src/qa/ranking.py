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

from dataclasses import dataclass

import numpy as np

from qa.article import PassageKind


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

    @property
    def best_dense(self) -> float:
        """The best unit cosine among the ranked passages."""
        return float(self.dense[self.order].max()) if len(self.order) else -1.0


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """``dense + weight · lexical / max(lexical)``: dense ranks, lexical breaks near-ties."""
    top = float(lexical.max()) if len(lexical) else 0.0
    return dense + weight * (lexical / top if top > 0 else 0.0)


def apply_priors(
    fused: np.ndarray, kinds: np.ndarray, candidates: np.ndarray, summary_margin: float
) -> np.ndarray:
    """Lower summary passages by ``summary_margin`` when a body passage is among the candidates."""
    adjusted = fused.copy()
    has_body = bool(np.any(kinds[candidates] == _BODY))
    if has_body and summary_margin:
        summaries = candidates[kinds[candidates] == _SUMMARY]
        adjusted[summaries] -= summary_margin
    return adjusted


_KIND_CODES = {PassageKind.METADATA: 0, PassageKind.SUMMARY: 1, PassageKind.BODY: 2}
_SUMMARY = _KIND_CODES[PassageKind.SUMMARY]
_BODY = _KIND_CODES[PassageKind.BODY]
METADATA = _KIND_CODES[PassageKind.METADATA]


def kind_codes(kinds: list[PassageKind]) -> np.ndarray:
    """Passage kinds as small integers, for vectorised priors."""
    return np.array([_KIND_CODES[k] for k in kinds], dtype=np.int8)
