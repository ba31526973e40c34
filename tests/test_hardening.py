"""The findings of the probe of issue 14, reproduced against the live app: each must now hold.

The app runs in a subprocess exactly as ``python app.py`` serves it (``qa.web.server.serve``:
logging, uvicorn options, the header timeout), on the seed article with the fake encoder, so that
its log, its memory and its sockets are those of a real server. See docs/reliability.md.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.hardening import AppProcess, event_id, hardening_app
from support.web import free_port

from qa.web.gradio.chat import MAX_CHAT_CHARS, MAX_CHAT_MESSAGES, MAX_MESSAGE_CHARS

FORGED = {'zz\nINFO:     127.0.0.1:1234 - "GET /staff/export.csv HTTP/1.1" 200 OK\nFORGED': 1}
FORGED_LINE = re.compile(r"^(?:INFO:\s+127\.0\.0\.1:1234|FORGED)", re.MULTILINE)


@dataclass
class Running(AppProcess):
    """The app in a subprocess, and its Gradio temporary folder."""

    gradio_tmp: Path

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024

    def files(self) -> set[Path]:
        return {p for p in self.gradio_tmp.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    work = tmp_path_factory.mktemp("hardening")
    with hardening_app(work, free_port()) as app:
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
    messages: list[dict] = []
    with httpx.stream(
        "GET", app.url + "gradio_api/queue/data", params={"session_hash": session}, timeout=60
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                messages.append(json.loads(line[6:]))
                if messages[-1]["msg"] in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return joined.status_code, messages


def history_of(count: int, text: str) -> list[dict]:
    """``count`` chat messages, alternately the reader's and the assistant's, of ``text`` each."""
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{text} {i}"} for i in range(count)]


# --- 1. a request cannot forge a log line -------------------------------------------------------


def test_forged_log_line_does_not_appear_as_a_line(running: Running):
    offset = running.log_size()
    for path in (
        "gradio_api/call/v2/ask",
        "gradio_api/queue/join",
        "gradio_api/run/predict",
        "staff/gradio_api/call/v2/ask",
    ):
        response = httpx.post(running.url + path, json=FORGED, timeout=30)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.json()["error"]
    time.sleep(0.3)
    written = running.log_since(offset)
    assert FORGED_LINE.search(written) is None, written
    assert "Traceback" not in written


# --- 2. no disk writes through deep_link ---------------------------------------------------------


def test_deep_link_is_closed_and_writes_nothing(running: Running):
    status, messages = chat_event(running, "deeplink1", history_of(6, "Une question ?"))
    assert status == 200 and messages[-1]["msg"] == "process_completed"
    before = running.files()
    for path in ("gradio_api/deep_link", "staff/gradio_api/deep_link"):
        response = httpx.get(running.url + path, params={"session_hash": "deeplink1"}, timeout=30)
        assert response.status_code == 404 and response.json()["error"] == "Adresse inconnue."
    assert running.files() == before
    assert not [p for p in running.files() if "deep_link" in str(p)]


# --- 3. and 4. histories bounded before Gradio reads or stores them ----------------------------


def test_huge_history_is_cut_adds_little_log_and_no_question(running: Running):
    history = history_of(20_000, "question secrète numéro " + "x" * 20)
    assert len(json.dumps(history)) > 1_500_000
    offset = running.log_size()
    status, messages = chat_event(running, "huge1", history)
    assert status == 200
    done = messages[-1]
    assert done["msg"] == "process_completed" and done["success"], done
    chat = next(value for value in done["output"]["data"] if isinstance(value, list))
    assert len(chat) <= MAX_CHAT_MESSAGES + 2
    malformed = [{"role": "user", "content": {"question secrète": i}} for i in range(20_000)]
    refused, _ = chat_event(running, "huge2", malformed)
    assert refused == 422
    time.sleep(0.3)
    written = running.log_since(offset)
    assert len(written.encode()) < 10 * 1024, len(written)
    assert "secrète" not in written and "input_value" not in written


MEMORY_BOUND_MIB = 100  # docs/reliability.md: 2 MiB a session at most (measured: 0.8)


def test_memory_of_50_sessions_with_maximal_histories_is_bounded(running: Running):
    # Maximal: messages at their size limit, more than the chat's budget of characters, in
    # 4-byte characters (emoji); Gradio keeps each session's last chat value in memory.
    history = history_of(20, "😀" * MAX_MESSAGE_CHARS)
    assert sum(len(m["content"]) for m in history) > MAX_CHAT_CHARS
    chat_event(running, "warm", history)
    before = running.rss_mib()
    for n in range(50):
        status, messages = chat_event(running, f"memory{n}", history)
        assert status == 200 and messages[-1]["success"]
    grown = running.rss_mib() - before
    print(f"50 sessions with maximal histories: +{grown:.1f} MiB RSS")  # noqa: T201
    assert grown < MEMORY_BOUND_MIB


# --- 5. slow clients cut off -------------------------------------------------------------------


class HealthProbe(threading.Thread):
    """Times ``GET /healthz`` every quarter of a second until stopped (99 s for a non-200)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.latencies, self.done = url, [], threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            began = time.monotonic()
            response = httpx.get(self.url + "healthz", timeout=5)
            self.latencies.append(time.monotonic() - began if response.status_code == 200 else 99.0)
            time.sleep(0.25)


def slow_sockets(port: int, count: int) -> list[socket.socket]:
    """``count`` connections: half send nothing, half start a request and then trickle."""
    sockets = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def seconds_until_closed(sockets: list[socket.socket], limit: float) -> list[float]:
    """When the server closed each socket (seconds from now); one header line every 2 s meanwhile."""
    start = last_trickle = time.monotonic()
    open_ = {sock.fileno(): sock for sock in sockets}
    closed_at: list[float] = []
    while open_ and time.monotonic() - start < limit:
        readable, _, _ = select.select(list(open_.values()), [], [], 0.2)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_at.append(time.monotonic() - start)
                del open_[sock.fileno()]
        if time.monotonic() - last_trickle >= 2:
            last_trickle = time.monotonic()
            for fileno, sock in list(open_.items())[1::2]:
                try:
                    sock.send(b"X-Lent: 1\r\n")
                except OSError:
                    closed_at.append(time.monotonic() - start)
                    del open_[fileno]
    return closed_at


def test_slow_sockets_are_closed_while_healthz_answers(running: Running):
    sockets = slow_sockets(int(running.url.rsplit(":", 1)[1].strip("/")), 300)
    probe = HealthProbe(running.url)
    probe.start()
    try:
        closed_at = seconds_until_closed(sockets, limit=20)
    finally:
        probe.done.set()
        probe.join()
        for sock in sockets:
            sock.close()
    print(
        f"300 slow sockets: {len(closed_at)} closed, the last after {max(closed_at):.1f} s; "  # noqa: T201
        f"/healthz at most {max(probe.latencies):.3f} s over {len(probe.latencies)} calls"
    )
    assert len(closed_at) == 300 and max(closed_at) < 15
    assert probe.latencies and max(probe.latencies) < 1


# --- 6. malformed Gradio requests: 4xx with a French message, never a 500 ----------------------

MALFORMED_GRADIO = [
    (
        "POST",
        "gradio_api/component_server",
        {"component_id": 99999, "fn_name": "x", "session_hash": "a", "data": None},
        404,
    ),
    (
        "POST",
        "gradio_api/component_server",
        {"component_id": 1, "fn_name": "preprocess", "session_hash": "a", "data": None},
        404,
    ),
    ("POST", "gradio_api/run/predict", {"data": ["Bonjour"]}, 404),
    ("POST", "gradio_api/api/predict", {"data": ["Bonjour"]}, 404),
    ("POST", "gradio_api/run/respond", {"data": ["Bonjour", [], None]}, 404),
    ("POST", "gradio_api/call/v2/ask", {"data": ["Bonjour"]}, 422),
    ("POST", "gradio_api/call/v2/ask", {"question": "Bonjour", "autre": 1}, 422),
    ("POST", "gradio_api/call/ask", {"data": "Bonjour"}, 422),
    ("POST", "gradio_api/call/ask", {"data": ["a", None, None, "d"]}, 422),
    ("POST", "gradio_api/call/ask", {"data": ["a", "pas une liste", None]}, 422),
    ("POST", "gradio_api/call/ask", [1, 2], 400),
    ("POST", "gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "a"}, 422),
    (
        "POST",
        "gradio_api/queue/join",
        {"data": ["a", [], None, None, None], "fn_index": "0", "session_hash": "a"},
        422,
    ),
    (
        "POST",
        "gradio_api/queue/join",
        {"data": ["a", [], None, None, None], "fn_index": 0, "session_hash": "a/../b"},
        422,
    ),
    ("POST", "gradio_api/queue/join", {"data": ["a", [], None, None, None], "fn_index": 0}, 422),
    (
        "POST",
        "gradio_api/queue/join",
        {"data": [["a"], [], None, None, None], "fn_index": 0, "session_hash": "a"},
        422,
    ),
    (
        "POST",
        "gradio_api/queue/join",
        {"data": ["a", "pas une liste", None, None, None], "fn_index": 0, "session_hash": "a"},
        422,
    ),
    (
        "POST",
        "gradio_api/queue/join",
        {
            "data": ["a", [{"role": "x", "content": "y"}], None, None, None],
            "fn_index": 0,
            "session_hash": "a",
        },
        422,
    ),
    (
        "POST",
        "gradio_api/queue/join",
        {
            "data": [
                "a",
                [{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}],
                None,
                None,
                None,
            ],
            "fn_index": 0,
            "session_hash": "a",
        },
        422,
    ),
    (
        "POST",
        "gradio_api/queue/join",
        {"data": [None], "fn_index": 7, "session_hash": "a", "event_data": {"value": "x" * 100_000}},
        422,
    ),
    ("POST", "gradio_api/cancel", {"session_hash": "a"}, 422),
    ("POST", "gradio_api/reset", {"event_id": ["x"]}, 422),
    ("POST", "staff/gradio_api/run/predict", {"data": ["Bonjour"]}, 404),
    ("POST", "staff/gradio_api/call/v2/diagnose", {"text": "Bonjour"}, 404),
    (
        "POST",
        "staff/gradio_api/component_server",
        {"component_id": 99999, "fn_name": "x", "session_hash": "a", "data": None},
        404,
    ),
    ("POST", "staff/gradio_api/queue/join", {"data": [1], "fn_index": 0, "session_hash": "a"}, 422),
    ("GET", "gradio_api/queue/data?session_hash=inconnue", None, 404),
    ("GET", "gradio_api/queue/data?session_hash=", None, 404),
    ("GET", "gradio_api/call/ask/0123456789abcdef", None, 404),
    ("GET", "gradio_api/call/v2/ask/0123456789abcdef", None, 404),
    ("GET", "staff/gradio_api/queue/data?session_hash=inconnue", None, 404),
    ("GET", "gradio_api/heartbeat/" + "a" * 200, None, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    MALFORMED_GRADIO,
    ids=[f"{m} {p[:45]} {s}" for m, p, _, s in MALFORMED_GRADIO],
)
def test_malformed_gradio_request_gets_a_french_4xx(
    running: Running, method: str, path: str, body: object, status: int
):
    offset = running.log_size()
    response = httpx.request(method, running.url + path, json=body, timeout=30)
    assert response.status_code == status, response.text[:300]
    message = response.json()["error"]
    assert re.search(r"[éèàç]|Requête|inconnu|invalide", message), message
    assert "Traceback" not in running.log_since(offset)


def test_a_finished_event_can_still_be_read_through_call(running: Running):
    posted = httpx.post(running.url + "gradio_api/call/ask", json={"data": ["Bonjour"]}, timeout=30)
    assert posted.status_code == 200
    event = posted.json()["event_id"]
    result = httpx.get(running.url + f"gradio_api/call/ask/{event}", timeout=30)
    assert result.status_code == 200 and "event: complete" in result.text


# --- 7. smaller findings -----------------------------------------------------------------------


def test_text_plain_api_ask_gets_415_and_is_not_logged(running: Running):
    before = httpx.get(running.url + "staff/export.csv").text
    response = httpx.post(
        running.url + "api/ask",
        content='{"question": "Qui a écrit l\'article ?"}',
        headers={"Content-Type": "text/plain", "Origin": "https://ailleurs.example"},
        timeout=30,
    )
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    assert httpx.get(running.url + "staff/export.csv").text == before


def test_forwarded_headers_must_parse(running: Running):
    garbage = httpx.get(running.url + "healthz", headers={"X-Forwarded-For": "garbage"}, timeout=30)
    assert garbage.status_code == 400 and "X-Forwarded-For" in garbage.json()["error"]
    fine = httpx.get(running.url + "healthz", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
    assert fine.status_code == 200
    for host in ("evil.example/<script>", "evil example", "a" * 300):
        config = httpx.get(running.url + "config", headers={"X-Forwarded-Host": host}, timeout=30)
        assert config.status_code == 200 and host not in config.text
