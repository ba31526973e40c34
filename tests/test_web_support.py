"""Helpers and fixtures shared by the web tests (this module holds no test itself).

Test modules load it with ``pytest_plugins = ["test_web_support"]``. ``live_app`` launches the real
app (real engine, real model) once per session with uvicorn in a background thread on a free port;
the browser tests and the client tests share that one launch.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from qa.answer import Answer, Citation, Decision, Scores, Status
from qa.article import Article, load_article
from qa.web.config import WebSettings
from qa.web.server import create_app

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "articles" / "000_77dfe58a8330a326.txt"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1."""

    def __init__(self, app: object, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
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


@pytest.fixture(scope="session")
def live_app(real_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The real app with the real engine, launched once for the whole session.

    Test modules load this module with ``pytest_plugins``, so the fixture is defined once.
    """
    port = free_port()
    settings = WebSettings(
        port=port, rate_limit=10_000, feedback_db=tmp_path_factory.mktemp("web") / "feedback.sqlite3"
    )
    server = LiveServer(create_app(real_engine, settings), port).start()
    yield App(server.url, settings, server)
    server.stop()


@pytest.fixture(scope="session")
def seed_article() -> Article:
    return load_article(SEED)


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


def citation(article: Article, section_index: int, sentence_index: int, rank: int = 1) -> Citation:
    """A citation of one section of ``article`` highlighting one of its sentences."""
    section = article.sections[section_index]
    sentence = section.sentences[sentence_index]
    return Citation(
        rank=rank,
        article=article.id,
        section=section.title,
        text=article.text(section),
        highlight=article.text(sentence),
        start=section.start,
        end=section.end,
        score=0.9,
        highlight_start=sentence.start,
        highlight_end=sentence.end,
        scores=Scores(0.88, 4.2, 0.91),
    )


def answered(article: Article, question: str = "Sur quel animal ?") -> Answer:
    """An answer citing two sections of ``article``."""
    cites = [citation(article, 5, 2, rank=1), citation(article, 3, 1, rank=2)]
    decision = Decision(True, "au-dessus du seuil", 0.8, 0.9, 0.9, 0.82)
    return Answer(question, Status.ANSWERED, "D'après l'article …", cites, decision)


@pytest.fixture
def tmp_db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "sub" / "feedback.sqlite3"
