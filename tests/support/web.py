"""The app served for real on a free localhost port or through a TestClient, and Gradio events sent to it.

``tests/conftest.py`` registers this module as a plugin, so its fixtures are defined once:
``live_app`` launches the real app (real engine, real model) once per session with uvicorn in a
background thread, and the browser tests and the client tests share that one launch; ``api`` is
the app over the seed article (fake encoder) in a TestClient, one per test module. Gradio events
go as the page sends them: :func:`respond_body` builds a chat question, :func:`gradio_events`
joins the queue and reads the stream.
"""

from __future__ import annotations

import functools
import http.server
import json
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
from fastapi.testclient import TestClient

from qa.engine import Engine
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


def client_for(engine: Engine, tmp_path: Path, **options: object) -> TestClient:
    settings = WebSettings(feedback_db=tmp_path / "feedback.sqlite3", **options)
    return TestClient(create_app(engine, settings), base_url="http://127.0.0.1:7860")


@pytest.fixture(scope="module")
def api(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with client_for(seed_engine, tmp_path_factory.mktemp("api"), rate_limit=100_000) as client:
        yield client


@contextmanager
def live(engine: object, tmp_path: Path, **options: object) -> Iterator[str]:
    with serving(engine, tmp_path / "f.sqlite3", **options) as app:
        yield app.url


def event_id(url: str, api_name: str) -> int:
    """The ``fn_index`` of the Gradio event named ``api_name``."""
    config = httpx.get(url + "config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def queue_messages(url: str, session: str, timeout: float = 30, http: object = httpx) -> list[dict]:
    """The messages of ``session``'s queue stream at ``url``, until its event ends.

    ``http``: ``httpx`` itself, or an ``httpx.Client`` (connections from an address of its own).
    """
    messages: list[dict] = []
    with http.stream(
        "GET", url + "gradio_api/queue/data", params={"session_hash": session}, timeout=timeout
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                messages.append(json.loads(line[6:]))
                if messages[-1]["msg"] in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return messages


def gradio_events(url: str, bodies: list[bytes], session: str) -> list[dict]:
    """Run Gradio events (raw ``queue/join`` bodies) on one session; the stream's messages."""
    for body in bodies:
        joined = httpx.post(
            url + "gradio_api/queue/join",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert joined.status_code == 200, joined.text
    messages: list[dict] = []
    with httpx.stream(
        "GET", url + "gradio_api/queue/data", params={"session_hash": session}, timeout=30
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                messages.append(json.loads(line[6:]))
                done = sum(m["msg"] == "process_completed" for m in messages)
                if done == len(bodies) or messages[-1]["msg"] in ("unexpected_error", "close_stream"):
                    break
    return messages


def respond_body(fn_index: int, question_json: str, session: str) -> bytes:
    """A chat question as the page sends it (question, empty chat, then the server-side states:
    remembered answers, earlier questions, article scope)."""
    return (
        f'{{"data": [{question_json}, [], null, null, null], "fn_index": {fn_index}, '
        f'"session_hash": "{session}"}}'
    ).encode()


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


class HealthProbe(threading.Thread):
    """A visitor timing ``GET /healthz`` every ``interval`` s until :attr:`done`; 99 s for a failure.

    A failure is a status other than 200, or no answer within ``timeout`` seconds.
    """

    def __init__(self, url: str, interval: float = 0.1, timeout: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.url, self.interval, self.timeout = url, interval, timeout
        self.latencies: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            began = time.monotonic()
            try:
                ok = httpx.get(self.url + "healthz", timeout=self.timeout).status_code == 200
            except httpx.HTTPError:
                ok = False
            self.latencies.append(time.monotonic() - began if ok else 99.0)
            time.sleep(self.interval)
