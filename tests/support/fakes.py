"""The fake encoder, and engines over it: the real engine without the model."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from qa.engine import Engine, Settings
from qa.textnorm import content_words, stem


class FakeEncoder:
    """Bag of stemmed content words hashed into 64 buckets, L2-normalised.

    Deterministic (CRC32, not ``hash``), and meaningful enough that texts sharing words are close.

    ``version`` changes the fingerprint (a "changed model"); ``passage_calls`` counts embeddings
    of passages, to tell a loaded index from a rebuilt one; ``query_calls``, of questions.
    """

    name = "fake"
    dimension = 64

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.passage_calls = 0
        self.query_calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in content_words(text):
            vector[zlib.crc32(stem(word).encode()) % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        if norm == 0:
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]).astype(np.float32).reshape(-1, self.dimension)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.query_calls += 1
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passage_calls += 1
        return self._encode(texts)

    def fingerprint(self) -> str:
        return f"fake-v{self.version}"

    def index_extra(self) -> dict:
        return {}


class ApproximateFake(FakeEncoder):
    """The fake encoder with its question vectors nudged by ``noise``; the fake itself is exact.

    An approximate encoder (:class:`qa.encoders.Approximate`) whose error is ``exact_margin``.
    """

    def __init__(self, exact_margin: float, noise: float = 0.0) -> None:
        super().__init__()
        self.exact_margin = exact_margin
        self.noise = noise
        self.exact_encoder = FakeEncoder()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        vectors = super().encode_queries(texts)
        vectors[:, 1:] += self.noise
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def exact(self) -> FakeEncoder:
        return self.exact_encoder


def fake_engine_for(articles: tuple[Path, ...], index_dir: Path, **settings: object) -> Engine:
    """An engine over ``articles`` with the fake encoder and its index in ``index_dir``."""
    return Engine.load(Settings(articles=articles, index_dir=index_dir, **settings), encoder=FakeEncoder())
