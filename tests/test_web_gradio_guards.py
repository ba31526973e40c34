"""The Gradio guards (qa.web.gradio): only the listed routes answer (every route of the installed
Gradio allowed or closed, the closed ones and deep links a French 404 under both mounts, no upload
on disk, what the page needs still open), and every Gradio body is checked (malformed requests a
French 4xx and no traceback, unknown events and huge bodies refused, a lone surrogate in the chat
answered); through a TestClient and on the app served in a subprocess (``running``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import gradio
import httpx
import pytest
from fastapi.testclient import TestClient
from support.hardening import Running, chat_event, history_of
from support.web import event_id, gradio_events, live, respond_body

from qa.engine import Engine
from qa.web.config import WebSettings
from qa.web.gradio.routes import APP_ALLOWED, GRADIO_ALLOWED, GRADIO_CLOSED, allowed
from qa.web.server import create_app

PARAMETER = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def app(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> object:
    settings = WebSettings(feedback_db=tmp_path_factory.mktemp("units") / "f.sqlite3", rate_limit=100_000)
    return create_app(seed_engine, settings)


@pytest.fixture(scope="module")
def client(app: object) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:7860") as test_client:
        yield test_client


# --- routes ---------------------------------------------------------------------------------------


def routes_of(routes: list, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(method, path, owner) of every route in the app's table, mounts and included routers too."""
    for route in routes:
        kind = type(route).__name__
        if kind == "_IncludedRouter":
            yield from routes_of(route.original_router.routes, prefix + (route.include_context.prefix or ""))
        elif kind == "Mount":
            for method, path, _ in routes_of(route.routes, prefix + route.path):
                yield method, path, "gradio"
        else:
            for method in sorted(getattr(route, "methods", None) or {"WEBSOCKET"}):
                yield method, prefix + route.path, "app"


def test_every_installed_gradio_route_is_either_allowed_or_closed(app: object):
    listed = list(routes_of(app.routes))
    gradio_routes = [(m, p) for m, p, owner in listed if owner == "gradio"]
    assert len(gradio_routes) > 100  # both mounts: the table really was read
    unknown = []
    for method, path in gradio_routes:
        inner = path.removeprefix("/staff") or "/"
        if inner in GRADIO_CLOSED:
            assert not allowed(method, PARAMETER.sub("1", path)), (method, path)
        elif not allowed(method, PARAMETER.sub("1", path)):
            unknown.append((method, path))
    assert unknown == [], (
        f"Gradio {gradio.__version__}: routes neither allowed nor closed; "
        "add each to GRADIO_ALLOWED or GRADIO_CLOSED in qa/web/gradio/routes.py"
    )
    own = [(m, p) for m, p, owner in listed if owner == "app"]
    assert own and all(allowed(m, PARAMETER.sub("1", p)) for m, p in own), own


def test_closed_gradio_routes_answer_404(client: TestClient):
    for path in GRADIO_CLOSED:
        for prefix in ("", "/staff"):
            concrete = prefix + PARAMETER.sub("1", path)
            for method in ("GET", "POST"):
                response = client.request(method, concrete)
                assert response.status_code == 404, (method, concrete)
                assert response.json()["error"] == "Adresse inconnue."


def test_allow_lists_are_not_stale(app: object):
    listed = {PARAMETER.sub("1", p) for _, p, _ in routes_of(app.routes)}
    for _, pattern in GRADIO_ALLOWED + APP_ALLOWED:
        if pattern == "/staff":
            continue  # the mount itself: Starlette redirects it to /staff/
        regex = re.compile(r"(?:/staff)?" + pattern)
        assert any(regex.fullmatch(path) for path in listed), pattern


def test_unknown_paths_and_websockets_are_refused(client: TestClient):
    for path in ("/nulle-part", "/gradio_api/nouvelle-route", "/staff/gradio_api/deep_link"):
        assert client.get(path).status_code == 404
    with pytest.raises(Exception):  # noqa: B017 - closed before accept: the client raises
        with client.websocket_connect("/gradio_api/queue/join"):
            pass


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


def test_deep_link_is_closed_and_writes_nothing(running: Running):
    status, messages = chat_event(running, "deeplink1", history_of(6, "Une question ?"))
    assert status == 200 and messages[-1]["msg"] == "process_completed"
    before = running.files()
    for path in ("gradio_api/deep_link", "staff/gradio_api/deep_link"):
        response = httpx.get(running.url + path, params={"session_hash": "deeplink1"}, timeout=30)
        assert response.status_code == 404 and response.json()["error"] == "Adresse inconnue."
    assert running.files() == before
    assert not [p for p in running.files() if "deep_link" in str(p)]


# --- bodies ---------------------------------------------------------------------------------------


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
