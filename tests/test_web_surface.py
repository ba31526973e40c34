"""What the server exposes (issue 20), probed on the live app: each guard of docs/web.md holds.

The app runs in a subprocess as ``python app.py`` serves it (``tests/hardening_app.py``: logging,
uvicorn options, the protocol with its caps), on the seed article with the fake encoder. Linux
loopback accepts any ``127.x`` source address, so floods come from other "clients" (127.0.0.2…)
than the probe that times ``/healthz`` (127.0.0.1); behind the trusted proxy (127.0.0.1),
``X-Forwarded-For`` names the visitor.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.hardening import AppProcess, hardening_app
from support.web import HealthProbe, event_id, free_port, queue_messages, serving

from qa.web.config import DEFAULT_MAX_CLIENT_CONNECTIONS, DEFAULT_MAX_CLIENT_STREAMS

BODY_TIMEOUT = 2  # QA_BODY_TIMEOUT of the app under test (seconds)
HEARTBEAT_GRACE = 3  # QA_HEARTBEAT_GRACE of the app under test (seconds; 10 by default)
MARKER = "ZQXMARQUEURVISITEUR"
FRENCH = re.compile(r"[éèàçô]|Requête|inconnu|invalide|Trop|Hôte")


@dataclass
class Running(AppProcess):
    """The app in a subprocess, and the port it listens on."""

    port: int


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    work = tmp_path_factory.mktemp("surface")
    port = free_port()
    settings = {"QA_BODY_TIMEOUT": str(BODY_TIMEOUT), "QA_HEARTBEAT_GRACE": str(HEARTBEAT_GRACE)}
    with hardening_app(work, port, **settings) as app:
        yield Running(app.url, app.process, app.log, port)


def join(
    app: Running, session: str, name: str = "load_scope", data: list | None = None, **extra: object
) -> int:
    """``queue/join`` one event of the public page for ``session``; the status."""
    body = {
        "data": [None] if data is None else data,
        "fn_index": event_id(app.url, name),
        "session_hash": session,
    }
    response = httpx.post(app.url + "gradio_api/queue/join", json={**body, **extra}, timeout=30)
    return response.status_code


def events(app: Running, session: str) -> list[dict]:
    """The messages of ``session``'s queue stream, until its event completes."""
    return queue_messages(app.url, session)


# A new visitor is "answered" when each /healthz gets its 200 within the probe's own timeout: the
# figures printed (-s) are the measurement; a loaded CI machine must not turn them into a failure.
ANSWERING = 5.0


def flood(port: int, source: str, request: bytes, count: int) -> list[socket.socket]:
    """``count`` connections from ``source``, each sending ``request`` (a refused one may be reset)."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        try:
            sock.sendall(request)
        except OSError:
            pass  # already answered and closed
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def watch(sockets: list[socket.socket], seconds: float) -> tuple[list[bytes], list[bytes]]:
    """Read every socket for ``seconds`` (or until all are closed): (bytes read from closed, from open)."""
    first = {sock: b"" for sock in sockets}
    open_ = set(sockets)
    end = time.monotonic() + seconds
    # A selector, not select.select(): 1,000 sockets reach past descriptor 1023 (FD_SETSIZE).
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        while open_ and time.monotonic() < end:
            for key, _ in selector.select(0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if data:
                    first[sock] += data  # the head and the body may come apart
                else:
                    open_.discard(sock)
                    selector.unregister(sock)
    closed = [first[sock] for sock in sockets if sock not in open_]
    return closed, [first[sock] for sock in sockets if sock in open_]


def heartbeat_request(port: int, session: str, extra: str = "") -> bytes:
    return f"GET /gradio_api/heartbeat/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


def heartbeat_status(app: Running, session: str, source: str, headers: dict | None = None) -> int:
    """Open the heartbeat of ``session`` from ``source``: its status (the stream is then closed)."""
    transport = httpx.HTTPTransport(local_address=source)
    with (
        httpx.Client(transport=transport, timeout=15) as client,
        client.stream("GET", app.url + f"gradio_api/heartbeat/{session}", headers=headers) as response,
    ):
        return response.status_code


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


# --- a per-client cap on connections and streams ---------------------------------------------


def test_a_flood_of_streams_from_one_address_leaves_healthz_answering(running: Running):
    assert join(running, "surfacelive1") == 200
    assert events(running, "surfacelive1")[-1]["msg"] == "process_completed"
    probe = HealthProbe(running.url, timeout=ANSWERING)
    probe.start()
    began = time.monotonic()
    sockets = flood(running.port, "127.0.0.2", heartbeat_request(running.port, "surfacelive1"), 1000)
    try:
        closed, still_open = watch(sockets, seconds=4)
        print(  # noqa: T201
            f"1,000 heartbeats from one address: sent in {time.monotonic() - began:.1f} s, "
            f"{len(still_open)} streams kept, {len(closed)} refused and closed; "
            f"/healthz at most {max(probe.latencies):.3f} s over {len(probe.latencies)} calls"
        )
        assert 0 < len(still_open) <= DEFAULT_MAX_CLIENT_STREAMS
        assert all(data.startswith(b"HTTP/1.1 200") for data in still_open)
        assert all(data == b"" or data.startswith(b"HTTP/1.1 429") for data in closed)
        assert sum(data.startswith(b"HTTP/1.1 429") for data in closed) > 500
        refused = next(data for data in closed if data)
        assert "Trop de connexions" in refused.decode("utf-8", "replace")
        # another visitor still gets a stream, and /healthz answered all along
        assert join(running, "surfacelive2") == 200
        assert heartbeat_status(running, "surfacelive2", "127.0.0.3") == 200
    finally:
        probe.done.set()
        probe.join()
        close_all(sockets)
    assert probe.latencies and max(probe.latencies) < ANSWERING  # every call answered 200 in time
    time.sleep(0.5)  # the streams closed: the address may connect again
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as client:
        assert client.get(running.url + "healthz").status_code == 200


def test_a_flood_of_slow_bodies_from_one_address_is_cut_while_healthz_answers(running: Running):
    offset = running.log_size()
    request = (
        f"POST /gradio_api/reset HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 300\r\n\r\n"
        f'{{"event_id": "{MARKER}'
    ).encode()
    probe = HealthProbe(running.url, timeout=ANSWERING)
    probe.start()
    sockets = flood(running.port, "127.0.0.4", request, 1000)
    try:
        closed, still_open = watch(sockets, seconds=BODY_TIMEOUT + 8)
    finally:
        probe.done.set()
        probe.join()
        close_all(sockets)
    timed_out = [data for data in closed if data.startswith(b"HTTP/1.1 408")]
    print(  # noqa: T201
        f"1,000 slow bodies from one address: {len(timed_out)} cut by a 408 after {BODY_TIMEOUT} s, "
        f"{len(closed) - len(timed_out)} refused at once; /healthz at most {max(probe.latencies):.3f} s"
    )
    assert still_open == []
    assert 0 < len(timed_out) <= DEFAULT_MAX_CLIENT_CONNECTIONS
    assert all(data == b"" or data.startswith((b"HTTP/1.1 408", b"HTTP/1.1 429")) for data in closed)
    assert "trop lente" in timed_out[0].decode("utf-8", "replace")
    assert probe.latencies and max(probe.latencies) < ANSWERING
    assert MARKER not in running.log_since(offset)


def test_visitors_behind_the_trusted_proxy_are_capped_one_by_one(running: Running):
    assert join(running, "surfacelive3") == 200
    greedy = "X-Forwarded-For: 203.0.113.9\r\n"
    sockets = flood(running.port, "127.0.0.1", heartbeat_request(running.port, "surfacelive3", greedy), 150)
    try:
        closed, still_open = watch(sockets, seconds=3)
        assert len(still_open) == DEFAULT_MAX_CLIENT_STREAMS
        assert len(closed) == 150 - DEFAULT_MAX_CLIENT_STREAMS
        assert all(data.startswith(b"HTTP/1.1 429") for data in closed)
        other = {"X-Forwarded-For": "203.0.113.10"}
        assert heartbeat_status(running, "surfacelive3", "127.0.0.1", other) == 200
        assert httpx.get(running.url + "healthz", headers=other, timeout=10).status_code == 200
    finally:
        close_all(sockets)


# --- heartbeats only for live sessions -------------------------------------------------------


def test_heartbeat_of_an_unknown_session_is_a_404_and_a_new_session_gets_its_stream(running: Running):
    began = time.monotonic()
    unknown = httpx.get(running.url + "gradio_api/heartbeat/jamaisvue", timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"] == "Adresse inconnue."
    assert HEARTBEAT_GRACE <= time.monotonic() - began < HEARTBEAT_GRACE + 5
    # the page opens its heartbeat just before its first event: the heartbeat waits for it
    statuses: list[int] = []
    opener = threading.Thread(
        target=lambda: statuses.append(heartbeat_status(running, "neuve1", "127.0.0.1"))
    )
    opener.start()
    time.sleep(0.5)
    assert join(running, "neuve1") == 200
    opener.join(timeout=20)
    assert statuses == [200]


# --- short body deadline on every POST -------------------------------------------------------

SLOW_POSTS = [
    "gradio_api/reset",
    "gradio_api/cancel",
    "gradio_api/component_server",
    "gradio_api/queue/join",
    "gradio_api/call/ask",
    "gradio_api/call/v2/ask",
    "staff/gradio_api/queue/join",
    "api/ask",
    "staff/api/verifications",
]


def slow_post(app: Running, path: str, results: dict[str, tuple[bytes, float]]) -> None:
    """Send the headers and the start of a body, then nothing: the answer and when it came."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", app.port), timeout=BODY_TIMEOUT + 10) as sock:
        sock.sendall(
            f"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"question": "'.encode()
        )
        answer, elapsed = b"", 0.0
        while chunk := sock.recv(65536):  # the 408 closes the connection
            answer += chunk
            elapsed = time.monotonic() - began
        results[path] = (answer, elapsed)


def test_a_slow_body_gets_408_on_every_post_route(running: Running):
    results: dict[str, tuple[bytes, float]] = {}
    threads = [threading.Thread(target=slow_post, args=(running, path, results)) for path in SLOW_POSTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(SLOW_POSTS)
    for path, (answer, seconds) in results.items():
        assert answer.startswith(b"HTTP/1.1 408") and b"connection: close" in answer.lower(), (path, answer)
        assert "trop lente" in answer.decode("utf-8", "replace")
        assert BODY_TIMEOUT - 0.5 < seconds < BODY_TIMEOUT + 2, (path, seconds)


# --- JSON only on POST routes -------------------------------------------------------------------

CROSS_SITE = [
    ("gradio_api/call/v2/ask", {"question": "Qui a écrit l'article ?"}),
    ("gradio_api/call/ask", {"data": ["Qui a écrit l'article ?"]}),
    ("gradio_api/queue/join", {"data": ["Qui ?", [], None, None, None], "fn_index": 0, "session_hash": "x1"}),
    ("gradio_api/reset", {"event_id": "abc"}),
    ("staff/gradio_api/queue/join", {"data": ["Qui ?", "", None], "fn_index": 0, "session_hash": "x1"}),
    ("api/ask", {"question": "Qui a écrit l'article ?"}),
    ("staff/api/verifications", {"question": "Qui a écrit l'article ?", "verdict": "absent"}),
]


@pytest.mark.parametrize(("path", "body"), CROSS_SITE, ids=[path for path, _ in CROSS_SITE])
@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_post_that_is_not_json_is_refused_before_it_counts(
    running: Running, path: str, body: dict, kind: str | None
):
    headers = {"Origin": "https://ailleurs.example"}
    if kind:
        headers["Content-Type"] = kind
    response = httpx.post(running.url + path, content=json.dumps(body), headers=headers, timeout=30)
    assert response.status_code == 415
    assert "JSON" in response.json()["error"]


def test_the_pages_own_posts_still_work(running: Running):
    assert join(running, "pagejson1") == 200  # application/json, as Gradio's front end sends
    posted = httpx.post(running.url + "gradio_api/call/v2/ask", json={"question": "Qui ?"}, timeout=30)
    assert posted.status_code == 200 and posted.json()["event_id"]


# --- malformed Gradio requests: a French 4xx, no traceback ------------------------------------

VOTE_DATA = [
    None,
    5,
    "x",
    {},
    {"index": 0},
    {"value": "x"},
    {"index": "a", "value": 1},
    {"index": [0, "b"], "value": 1},
]
MALFORMED = [
    ("gradio_api/call/v2/ask", {}, 422),
    ("gradio_api/call/v2/ask", {"history": []}, 422),
    ("gradio_api/call/v2/ask", {"article": None}, 422),
    ("gradio_api/call/v2/ask", {"question": None}, 422),
    ("gradio_api/call/v2/ask", {"question": 5}, 422),
    ("gradio_api/call/v2/ask", {"question": ["a"]}, 422),
    ("gradio_api/call/v2/ask", {"question": {"a": 1}}, 422),
    ("gradio_api/call/v2/ask", {"question": "Qui ?", "history": [1]}, 422),
    ("gradio_api/call/v2/ask", {"question": "Qui ?", "history": "Bonjour"}, 422),
    ("gradio_api/call/ask", {"data": [None]}, 422),
    ("gradio_api/call/ask", {"data": [5]}, 422),
    ("gradio_api/call/ask", {"data": [["a"], None, None]}, 422),
    ("gradio_api/call/ask", {}, 422),
    ("gradio_api/call/ask", {"data": []}, 422),
    ("gradio_api/queue/join", {"data": ["a", [], None, None, None], "fn_index": 0}, 422),
    (
        "gradio_api/queue/join",
        {"data": [None], "fn_index": 9, "session_hash": "m1", "event_data": "x" * 70_000},
        422,
    ),
    *[("gradio_api/queue/join", {"fn": "vote", "event_data": data}, 422) for data in VOTE_DATA],
]


@pytest.mark.parametrize(
    ("path", "body", "status"), MALFORMED, ids=[f"{p[11:]} {json.dumps(b)[:40]}" for p, b, _ in MALFORMED]
)
def test_malformed_gradio_requests_get_a_french_4xx_and_no_traceback(
    running: Running, path: str, body: dict, status: int
):
    if body.get("fn") == "vote":
        body = {"data": [None], "fn_index": event_id(running.url, "vote"), "session_hash": "v1", **body}
        body.pop("fn")
    offset = running.log_size()
    response = httpx.post(running.url + path, json=body, timeout=30)
    assert response.status_code == status, response.text[:300]
    assert FRENCH.search(response.json()["error"])
    time.sleep(0.1)
    assert "Traceback" not in running.log_since(offset)


def test_a_valid_vote_still_runs(running: Running):
    event_data = {"index": [1, 0], "value": {"content": "réponse"}, "liked": True}
    assert join(running, "vote2", "vote", event_data=event_data) == 200
    assert events(running, "vote2")[-1]["success"]


# --- no visitor text in the log ---------------------------------------------------------------


def odd_requests(app: Running) -> None:
    """Requests carrying :data:`MARKER` everywhere a visitor can put text."""
    url, marked = app.url, MARKER + " ?"
    get = {
        f"?article={MARKER}": {},
        f"staff/?article={MARKER}": {},
        f"api/articles/{MARKER}": {},
        MARKER: {},
        f"gradio_api/{MARKER}": {},
        f"assets/{MARKER}.js": {},
        f"gradio_api/call/ask/{MARKER}": {},
        f"gradio_api/queue/data?session_hash={MARKER}": {},
        "config": {"Host": f"{MARKER}.example"},
        "healthz": {"X-Forwarded-For": MARKER},
        "staff/config": {"X-Forwarded-Host": f"{MARKER}.example"},
    }
    for path, headers in get.items():
        httpx.get(url + path, headers=headers, timeout=30)
    posts = [
        ("api/ask", {"question": marked}),
        ("api/ask", {"question": "Qui ?", "article": MARKER * 3}),
        ("api/ask", {"question": "Qui ?", "history": [marked, {MARKER: 1}]}),
        ("api/ask", {MARKER: marked}),
        ("gradio_api/call/v2/ask", {"question": marked}),
        ("gradio_api/call/v2/ask", {"question": "Qui ?", "article": MARKER}),
        ("gradio_api/call/v2/ask", {"question": "Qui ?", "article": 7, MARKER: 1}),
        ("gradio_api/call/ask", {"data": ["Qui ?", None, MARKER]}),
        ("gradio_api/call/ask", {"data": [{MARKER: 1}]}),
        (
            "gradio_api/queue/join",
            {"data": [marked, [], None, None, None], "fn_index": 0, "session_hash": MARKER},
        ),
        ("gradio_api/queue/join", {"data": [marked, [{"role": MARKER, "content": "x"}], None, None, None]}),
        (
            "gradio_api/queue/join",
            {"data": [None], "fn_index": 7, "session_hash": "o1", "event_data": MARKER},
        ),
        ("gradio_api/cancel", {"session_hash": MARKER, "fn_index": 0, "event_id": MARKER}),
        ("gradio_api/reset", {"event_id": MARKER}),
        ("gradio_api/component_server", {"component_id": 1, "fn_name": MARKER, "session_hash": "a"}),
        ("staff/gradio_api/call/v2/diagnose", {"text": marked}),
        (f"gradio_api/call/{MARKER}", {"data": [marked]}),
    ]
    for path, body in posts:
        httpx.post(url + path, json=body, timeout=30)
        httpx.post(url + path, content=json.dumps(body)[:-3], headers={"Content-Type": "application/json"})
        httpx.post(url + path, content=json.dumps(body), headers={"Content-Type": "text/plain"})
    # a chat question and a Gradio /ask with an unknown article, read to the end
    assert join(app, "marked1", "respond", [marked, [], None, None, None]) == 200
    assert events(app, "marked1")[-1]["msg"] == "process_completed"
    posted = httpx.post(
        url + "gradio_api/call/v2/ask", json={"question": "Qui ?", "article": MARKER}, timeout=30
    )
    answer = httpx.get(url + f"gradio_api/call/v2/ask/{posted.json()['event_id']}", timeout=30).text
    assert "event: error" in answer and "Article inconnu" in answer


def test_no_visitor_text_reaches_the_log(running: Running):
    offset = running.log_size()
    odd_requests(running)
    time.sleep(0.5)
    written = running.log_since(offset)
    assert written.count("\n") > 50, written[-2000:]  # the access log was written
    assert MARKER not in written and MARKER.lower() not in written.lower()
    assert "Traceback" not in written and "ERROR" not in written


# --- the Host header, never reflected ----------------------------------------------------------


def test_a_foreign_host_is_refused_and_never_reflected(running: Running):
    for path in ("config", "staff/config", "", "staff/", "healthz", "gradio_api/info"):
        for headers in (
            {"Host": "evil.example"},
            {"Host": "evil.example:7860"},
            {"X-Forwarded-Host": "evil.example"},
        ):
            response = httpx.get(running.url + path, headers=headers, timeout=30)
            assert response.status_code == 400, (path, headers)
            assert "evil" not in response.text and "Hôte non autorisé" in response.json()["error"]
    for host in (f"localhost:{running.port}", f"127.0.0.1:{running.port}"):
        config = httpx.get(running.url + "config", headers={"Host": host}, timeout=30).json()
        assert config["root"] == f"http://{host}"


def test_a_public_url_fixes_the_root_and_is_an_allowed_host(seed_engine: object, tmp_path: Path):
    with serving(
        seed_engine,
        tmp_path / "f.sqlite3",
        public_url="https://qa.example.org",
        allowed_hosts=("*.inserm.fr",),
    ) as app:
        for headers in ({}, {"Host": "qa.example.org"}, {"Host": "questions.inserm.fr"}):
            assert httpx.get(app.url + "config", headers=headers, timeout=30).json()["root"] == (
                "https://qa.example.org"
            )
            staff = httpx.get(app.url + "staff/config", headers=headers, timeout=30).json()
            assert staff["root"] == "https://qa.example.org/staff"
        assert httpx.get(app.url + "config", headers={"Host": "inserm.fr"}, timeout=30).status_code == 400


# --- the Content-Security-Policy ----------------------------------------------------------------


def policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_pages_get_a_whole_csp_with_a_nonce_on_every_script(running: Running):
    nonces = set()
    for path in ("", "staff/", "?article=000_77dfe58a8330a326"):
        page = httpx.get(running.url + path, headers={"Accept": "text/html"}, timeout=30)
        directives = policy(page)
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'none'" and directives["frame-ancestors"].startswith("'self'")
        nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{20,})' 'unsafe-eval'", directives["script-src"])[
            1
        ]
        nonces.add(nonce)
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert len(scripts) >= 5 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
        assert "<base" not in page.text  # base-uri 'none': Gradio's no-op <base href="./"> is gone
        assert "__qaOwnPage" in page.text  # the head script, with the nonce (checked above)
    assert len(nonces) == 3  # a fresh nonce each response
    healthz = httpx.get(running.url + "healthz", timeout=30)
    assert list(policy(healthz)) == ["frame-ancestors"]


# --- long ids cut in messages -------------------------------------------------------------------


def test_a_long_unknown_article_id_is_cut_in_every_message(running: Running):
    long_id = "x" * 60_000
    asked = httpx.post(running.url + "api/ask", json={"question": "Qui ?", "article": long_id}, timeout=30)
    assert asked.status_code == 404 and len(asked.content) < 1000
    assert "x" * 80 + "…" in asked.json()["error"] and "x" * 81 not in asked.json()["error"]
    article = httpx.get(running.url + "api/articles/" + "y" * 150, timeout=30)
    assert article.status_code == 404 and "y" * 80 + "…" in article.json()["error"]
    posted = httpx.post(
        running.url + "gradio_api/call/v2/ask", json={"question": "Qui ?", "article": long_id}
    )
    answer = httpx.get(running.url + f"gradio_api/call/v2/ask/{posted.json()['event_id']}", timeout=30).text
    assert len(answer) < 2000
    error = json.loads(next(line[6:] for line in answer.splitlines() if line.startswith("data: ")))
    assert "x" * 80 + "…" in error["error"] and "x" * 81 not in error["error"]
