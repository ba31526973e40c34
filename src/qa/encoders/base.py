"""What every encoder is: the protocols, e5's prefixes, fingerprints. Depends on nothing else in ``qa``.

e5 models were trained with ``query: `` before questions and ``passage: `` before passages; the
encoders apply both prefixes, so that callers never think about them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# A question is a few tokens: a second thread saves nothing on it, and when the other core is busy
# (the web server, another request, another process) OpenMP waits for it, 5-10x slower (qa bench).
QUERY_THREADS = 1
FINGERPRINT_PROBE = ["passage: Empreinte du modèle : la Journée mondiale contre le cancer."]


class QueryEncoder(Protocol):
    """Turns questions into L2-normalised float32 vectors."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions, shape ``(len(texts), dimension)``."""


class Encoder(QueryEncoder, Protocol):
    """Turns questions and passages into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages, shape ``(len(texts), dimension)``."""

    def fingerprint(self) -> str:
        """A short hash of the model's behaviour, to tell a changed model from the indexed one."""

    def index_extra(self) -> dict:
        """What a new index records for this encoder beside the model's name (opaque to the index).

        Given back through :class:`IndexedModel` when the index is opened; ``{}`` for most encoders.
        """


class IndexedModel(Protocol):
    """The model block of an index's manifest, as :func:`qa.encoders.load_encoder` reads it."""

    name: str | None
    fingerprint: str | None
    dimension: int | None
    extra: dict


@runtime_checkable
class Approximate(Protocol):
    """A question encoder that stands in for the index's, within a measured error.

    A choice it makes by at least ``exact_margin`` (a gap between two scores, or a score and its
    threshold) is the one the index's encoder makes; a closer one is made again with the vector of
    :meth:`exact`.
    """

    exact_margin: float

    def exact(self) -> QueryEncoder:
        """An encoder that gives the index encoder's question vectors (slower to load or run)."""


def vector_fingerprint(vectors: np.ndarray) -> str:
    """Hash vectors rounded to 3 decimals: stable across runs, changed by any real model change."""
    rounded = np.round(np.asarray(vectors, dtype=np.float32), 3) + 0.0  # -0.0 -> 0.0
    return hashlib.sha256(rounded.tobytes()).hexdigest()[:16]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosines of two equally shaped arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
