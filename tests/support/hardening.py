"""The app of tests/hardening_app.py (fake encoder, seed article) in a subprocess, and its log."""

from __future__ import annotations

import os
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


def event_id(url: str, api_name: str) -> int:
    """The ``fn_index`` of the Gradio event named ``api_name``."""
    config = httpx.get(url + "config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)
