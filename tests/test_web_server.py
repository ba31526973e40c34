"""Starting the app (qa.web.server.main, ``python app.py``): bad settings, an unusable index or no
articles stop it with one French line and no traceback, it serves with deliberate limits and
one-line logging, and (real model, in a subprocess) it starts on an empty model cache and a
truncated index, with no forged line and no staff password in its log.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.faults import articles_as_the_app_reads_them, truncate_every_file
from support.paths import REPO
from support.web import app_process, free_port

from qa.engine import Engine
from qa.errors import IndexProblem
from qa.index.store import load
from qa.web import server
from qa.web.server import OneLine


@pytest.fixture
def logging_setups(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """``main`` configures logging for the process: record it instead, in these tests."""
    configured: list[dict] = []
    monkeypatch.setattr(logging.config, "dictConfig", configured.append)
    return configured


def test_app_start_with_an_unusable_index_stops_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logging_setups: list
):
    from qa import engine

    def broken(*_: object, **__: object) -> None:
        raise IndexProblem("index /srv/index : units.faiss corrompu (somme de contrôle différente)")

    monkeypatch.setattr(engine.Engine, "load", broken)
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: pytest.fail("must not serve"))
    assert server.main([]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "qa-web : erreur au démarrage : index /srv/index : units.faiss corrompu "
        "(somme de contrôle différente)"
    )


def test_app_start_with_bad_settings_stops_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logging_setups: list
):
    monkeypatch.setenv("QA_RATE_LIMIT", "beaucoup")
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **k: pytest.fail("must not serve"))
    assert server.main([]) == 2
    assert "QA_RATE_LIMIT" in capsys.readouterr().err


def test_app_serves_with_deliberate_limits(
    seed_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, logging_setups: list
):
    from qa import engine

    served: dict = {}
    monkeypatch.setenv("QA_FEEDBACK_DB", str(tmp_path / "f.sqlite3"))
    monkeypatch.setenv("QA_MAX_CONNECTIONS", "123")
    monkeypatch.setattr(engine.Engine, "load", lambda *a, **k: seed_engine)
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **options: served.update(options))
    assert server.main(["--port", "7999"]) == 0
    assert served["limit_concurrency"] == 123 and served["timeout_keep_alive"] == 5
    assert served["port"] == 7999 and served["log_config"] is None  # configured once, below
    [config] = logging_setups
    assert config == server.log_config()
    assert config["root"]["handlers"] and config["loggers"]["uvicorn.access"]["handlers"]
    assert all(h["filters"] == ["one_line"] for h in config["handlers"].values())
    assert config["filters"]["one_line"]["()"] is OneLine


def test_app_py_without_articles_exits_with_a_message(tmp_path: Path):
    env = {
        **os.environ,
        "QA_ARTICLES": str(tmp_path / "nulle-part"),
        "QA_FEEDBACK_DB": str(tmp_path / "f.sqlite3"),
    }
    done = subprocess.run(
        [sys.executable, "app.py", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("qa-web")]
    assert error.startswith("qa-web : erreur au démarrage : ") and "nulle-part" in error


@pytest.mark.model
def test_app_starts_on_an_empty_model_cache_and_a_truncated_index(
    real_engine: Engine, real_index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A fresh machine after a crash: the model is converted, the index rebuilt, the app serves.

    Also checks the logs: CR/LF from a request cannot forge a line, the password never appears.
    """
    index = tmp_path / "index"
    shutil.copytree(real_index_dir, index)
    truncate_every_file(index)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {
        "QA_CACHE_DIR": str(tmp_path / "empty-cache"),
        "QA_INDEX_DIR": str(index),
        "QA_FEEDBACK_DB": str(tmp_path / "f.sqlite3"),
        "QA_STAFF_PASSWORD": "mot-de-passe-42",
        "PYTHONIOENCODING": "utf-8",
    }
    log = tmp_path / "app.log"
    with app_process(env, log, port) as url:
        answer = httpx.post(url + "api/ask", json={"question": "leucemie fer"}, timeout=60).json()
        assert answer["status"] == "answered"
        forging = httpx.post(url + "api/ask", json={"question": "fer\r\nINFO: faux"}, timeout=60)
        assert forging.status_code == 200
        httpx.get(url + "a%0D%0AINFO:%20forge?x=%0d%0aINFO:%20forge")
        token = base64.b64encode(b"equipe:mot-de-passe-42").decode()
        assert (
            httpx.get(url + "staff/export.csv", headers={"Authorization": f"Basic {token}"}).status_code
            == 200
        )
    # rebuilt and saved whole, with a model converted afresh that gives the same vectors
    load(index, articles_as_the_app_reads_them(monkeypatch), real_engine.encoder)
    assert (tmp_path / "empty-cache" / "models").is_dir()
    text = log.read_text()
    assert "Traceback" not in text
    assert "mot-de-passe-42" not in text and token not in text
    forged = [
        line for line in text.splitlines() if line.startswith("INFO: faux") or line.startswith("INFO: forge")
    ]
    assert forged == []
