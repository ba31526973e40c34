"""The app served for real on a free localhost port, and the session's live app (a fixture).

``tests/conftest.py`` registers this module as a plugin, so ``live_app`` is defined once: it
launches the real app (real engine, real model) once per session with uvicorn in a background
thread; the browser tests and the client tests share that one launch.
"""

from __future__ import annotations

import functools
import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from qa.web.config import WebSettings
from qa.web.server import create_app
from support.paths import REPO


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def app_process(env: dict[str, str], log: Path, port: int, timeout: float = 240) -> Iterator[str]:
    """``python app.py --port PORT`` with ``env``, output to ``log``: its URL once ``/healthz`` answers.

    Fails the test with the end of the log when the app exits or is not ready within ``timeout``.
    """
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"app.py did not start: {log.read_text()[-3000:]}")
            try:
                httpx.get(url + "healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


class LiveServer:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1."""

    def __init__(self, app: object, port: int) -> None:
        # A client's open stream (gradio_client keeps one) must not hold stop() for its 15 s.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}/"

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("le serveur de test n'a pas démarré")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class App:
    """A running app: its URL, settings and feedback file."""

    url: str
    settings: WebSettings
    server: LiveServer


@contextmanager
def serving(engine: object, feedback_db: Path, **options: object) -> Iterator[App]:
    """The whole app over ``engine`` on a free port for the ``with`` block.

    ``options`` are the other :class:`WebSettings` (``rate_limit``, ``staff_password``…).
    """
    port = free_port()
    settings = WebSettings(port=port, feedback_db=feedback_db, **options)
    server = LiveServer(create_app(engine, settings), port).start()
    try:
        yield App(server.url, settings, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_app(real_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The real app with the real engine, launched once for the whole session."""
    with serving(real_engine, tmp_path_factory.mktemp("web") / "feedback.sqlite3", rate_limit=10_000) as app:
        yield app


class StaticServer:
    """``http.server`` serving a folder on another localhost port (the embedding page)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass
