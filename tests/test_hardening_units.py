"""Issue 14, the parts that need no live server: routes listed from the installed Gradio, the log
handler, the history bounds, forwarded headers, the rate limiter's eviction and the CSV guard."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import socket
import sys
from collections.abc import Iterator

import gradio
import pytest
import uvicorn
from fastapi.testclient import TestClient
from uvicorn.server import ServerState

from qa.engine import Engine
from qa.web import logs
from qa.web.config import WebSettings
from qa.web.errors import Refusal
from qa.web.gradio import output
from qa.web.gradio.chat import bound_chat
from qa.web.gradio.routes import APP_ALLOWED, GRADIO_ALLOWED, GRADIO_CLOSED, allowed
from qa.web.history import bound_history, parse_history
from qa.web.limits import RateLimiter
from qa.web.proxies import ForwardedHeaders, TrustedProxies
from qa.web.server import create_app
from qa.web.timeouts import protocol_for

PARAMETER = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def app(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> object:
    settings = WebSettings(feedback_db=tmp_path_factory.mktemp("units") / "f.sqlite3", rate_limit=100_000)
    return create_app(seed_engine, settings)


@pytest.fixture(scope="module")
def client(app: object) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:7860") as test_client:
        yield test_client


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


# --- the log ------------------------------------------------------------------------------------


def handler_output(record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logs.OneLineHandler(stream)
    handler.addFilter(logs.OneLine())
    handler.handle(record)
    return stream.getvalue()


def test_a_traceback_is_written_as_one_line_with_its_message_cut():
    try:
        {}['zz\nINFO:     127.0.0.1:1234 - "GET /staff/export.csv HTTP/1.1" 200 OK\nFORGED' + "x" * 5000]
    except KeyError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in ASGI application\n",
            None,
            sys.exc_info(),
        )
    written = handler_output(record)
    assert written.count("\n") == 1 and written.endswith("\n")
    assert "Traceback" in written and "\\nFORGED" in written
    assert len(written) < logs.MAX_RECORD_CHARS + 100


def test_pydantic_input_values_are_masked_and_records_capped():
    message = (
        "1 validation error\n  Input should be a valid list [type=list_type, "
        "input_value='ma question secrète', input_type=str]" + "y" * 10_000
    )
    written = handler_output(logging.LogRecord("gradio", logging.ERROR, __file__, 1, message, None, None))
    assert "secrète" not in written and "input_value=…" in written
    assert written.count("\n") == 1 and len(written) < logs.MAX_RECORD_CHARS + 100


def test_control_characters_in_messages_are_escaped():
    record = logging.LogRecord("qa", logging.INFO, __file__, 1, "q %s", ("a\x1b[31m\u2028b",), None)
    written = handler_output(record)
    assert "\x1b" not in written and "\u2028" not in written and written.count("\n") == 1


def test_gradio_print_exc_goes_through_logging(monkeypatch: pytest.MonkeyPatch):
    import gradio.queueing
    import gradio.routes

    stream = io.StringIO()
    handler = logs.OneLineHandler(stream)
    monkeypatch.setattr(output.log, "handlers", [handler])
    monkeypatch.setattr(output.log, "propagate", False)
    output.route_gradio_output()
    try:
        raise ValueError("a\nINFO: faux")
    except ValueError:
        gradio.queueing.traceback.print_exc()
        gradio.routes.traceback.print_exc()
    gradio.queueing.print("x\ny")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "ValueError: a\\nINFO: faux" in lines[0]
    assert gradio.queueing.traceback.format_exc  # the rest of the module is still there


def test_log_config_uses_the_one_line_handler_everywhere():
    config = logs.log_config()
    assert all(h["class"] == "qa.web.logs.OneLineHandler" for h in config["handlers"].values())


# --- histories -----------------------------------------------------------------------------------


def test_bound_history_keeps_the_last_items_each_within_the_limit():
    history = [f"question {i}" for i in range(20)] + ["é" * 900]
    bounded = bound_history(history, max_items=5, max_chars=500)
    assert bounded == ["question 16", "question 17", "question 18", "question 19", "é" * 500]
    assert bound_history(history, max_items=0) == []
    assert parse_history(None) == [] and parse_history(["a"]) == ["a"]
    for bad in ("une chaîne", {"a": 1}, [1], ["a", None], [["a"]]):
        with pytest.raises(Refusal, match="history"):
            parse_history(bad)


def test_bound_chat_keeps_text_only_and_fits_the_budget():
    chat = [
        {"role": "user", "content": "q" * 50_000, "metadata": {"x": 1}, "options": [1]},
        {"role": "assistant", "content": [{"type": "text", "text": "r"}] * 10},
    ]
    bounded = bound_chat(chat, max_chars=1000)
    assert bounded[0] == {"role": "user", "content": [{"type": "text", "text": "q" * 1000}]}
    assert len(bounded[1]["content"]) == 4
    assert len(bound_chat([chat[0]] * 500, max_messages=40, max_chars=30_000, max_total=100_000)) == 3
    for bad in (
        "x",
        [1],
        [{"role": "system", "content": "x"}],
        [{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}],
        [{"role": "user", "content": {"text": "x"}}],
    ):
        with pytest.raises(Refusal):
            bound_chat(bad)


# --- forwarded headers, rate limiter -------------------------------------------------------------


def test_forwarded_headers_from_an_untrusted_peer_are_dropped(client: TestClient):
    # TestClient's peer is "testclient": not a trusted proxy, so X-Forwarded-Host is removed.
    config = client.get("/config", headers={"X-Forwarded-Host": "evil.example"})
    assert config.status_code == 200 and "evil.example" not in config.text


def forwarded_client(forwarded_for: str, trusted: TrustedProxies, peer: str = "10.0.0.1") -> str | None:
    """The client the app sees when ``peer`` sends this ``X-Forwarded-For`` (``None``: a 400)."""
    seen: list[str] = []
    sent: list[dict] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.append(scope["client"][0])

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "scheme": "http",
        "client": (peer, 1234),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
    }
    asyncio.run(ForwardedHeaders(app, trusted)(scope, receive, send))
    assert bool(seen) != bool(sent) and (not sent or sent[0]["status"] == 400)
    return seen[0] if seen else None


def test_trusted_proxies_parse_addresses():
    trusted = TrustedProxies("127.0.0.1,::1,10.0.0.0/8")
    assert "127.0.0.1" in trusted and "10.1.2.3" in trusted and "::1" in trusted
    assert "203.0.113.9" not in trusted and "garbage" not in trusted
    assert forwarded_client("203.0.113.9, 10.0.0.2", trusted) == "203.0.113.9"
    assert forwarded_client("203.0.113.9:5555", trusted) == "203.0.113.9"
    assert forwarded_client("[2001:db8::1]:80", trusted) == "2001:db8::1"
    assert (
        forwarded_client("garbage", trusted) is None and forwarded_client("1.2.3.4, garbage", trusted) is None
    )
    assert "1.2.3.4" not in TrustedProxies("") and "1.2.3.4" in TrustedProxies("*")
    # one spelling per address (one rate-limit key), none from a peer that is not trusted
    assert forwarded_client("2001:DB8:0::1", trusted) == "2001:db8::1"
    assert forwarded_client("", trusted) is None
    assert forwarded_client("203.0.113.9", trusted, peer="198.51.100.1") == "198.51.100.1"


def test_accepted_connections_get_tcp_nodelay_even_on_an_inherited_listener():
    """uvicorn --workers passes a listener with proto 0, on which asyncio leaves Nagle on."""
    settings = WebSettings()
    protocol = protocol_for(settings)
    config = uvicorn.Config(lambda scope, receive, send: None, http=protocol)
    config.load()

    async def accepted_nodelay() -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn's
        listener.bind(("127.0.0.1", 0))
        made: asyncio.Future = asyncio.get_running_loop().create_future()

        class Probe(protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:
                super().connection_made(transport)
                sock = transport.get_extra_info("socket")
                made.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Probe(config, ServerState(), {}), sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(made, 5)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_rate_limiter_keeps_a_limited_client_when_new_addresses_flood_in():
    limiter = RateLimiter(limit=3, max_keys=1000)
    for _ in range(3):
        assert limiter.allow("abuser", now=0)
    assert not limiter.allow("abuser", now=1)
    for n in range(20_000):
        limiter.allow(f"10.0.{n // 256}.{n % 256}", now=2)
    assert not limiter.allow("abuser", now=3)  # was: all counters forgotten at 10,000 addresses
    assert len(limiter._hits) <= 1000
    assert limiter.allow("abuser", now=61)  # the window passed
