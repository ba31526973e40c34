"""The app of tests/hardening_app.py (fake encoder, seed article) in a subprocess, its log, chat events.

``tests/conftest.py`` registers this module as a plugin: the fixture ``running`` starts that app
once per session for every test module that probes it (a module that needs other settings, as
tests/test_web_surface.py, starts its own with :func:`hardening_app`). :func:`chat_event` sends
it a chat question with a history, as the page does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.paths import REPO
from support.web import event_id, free_port, queue_messages


@dataclass
class AppProcess:
    """The app in a subprocess: its URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")


@contextmanager
def hardening_app(work: Path, port: int, **settings: str) -> Iterator[AppProcess]:
    """Start tests/hardening_app.py on ``port`` with ``settings`` (``QA_*``), until it answers."""
    env = {
        **os.environ,
        "QA_FEEDBACK_DB": str(work / "f.sqlite3"),
        "QA_RATE_LIMIT": "100000",
        **settings,
        "GRADIO_TEMP_DIR": str(work / "gradio"),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    log = work / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "hardening_app.py"), str(port), str(work / "index")],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    app = AppProcess(f"http://127.0.0.1:{port}/", process, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(app.url + "healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("l'application n'a pas démarré :\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    try:
        yield app
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Running(AppProcess):
    """The app in a subprocess, and its Gradio temporary folder."""

    gradio_tmp: Path

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024

    def files(self) -> set[Path]:
        return {p for p in self.gradio_tmp.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    work = tmp_path_factory.mktemp("hardening")
    with hardening_app(work, free_port(), QA_HEADER_TIMEOUT="2") as app:  # slow sockets cut sooner
        yield Running(app.url, app.process, app.log, work / "gradio")


def chat_event(
    app: Running,
    session: str,
    history: list,
    question: str = "Qui a écrit l'article ?",
) -> tuple[int, list[dict]]:
    """Send one chat question with ``history`` as the page does; the status and stream messages."""
    body = {
        "data": [question, history, None, None, None],
        "fn_index": event_id(app.url, "respond"),
        "session_hash": session,
        "trigger_id": 1,
        "event_data": None,
    }
    joined = httpx.post(
        app.url + "gradio_api/queue/join",
        timeout=60,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )
    if joined.status_code != 200:
        return joined.status_code, []
    return joined.status_code, queue_messages(app.url, session, timeout=60)


def history_of(count: int, text: str) -> list[dict]:
    """``count`` chat messages, alternately the reader's and the assistant's, of ``text`` each."""
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{text} {i}"} for i in range(count)]
