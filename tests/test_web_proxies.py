"""Forwarded headers (qa.web.proxies): trusted proxies parsed, the client address read from
``X-Forwarded-For`` written one way or refused, the forwarded headers of an untrusted peer dropped;
and on the app served in a subprocess (``running``), a garbage address refused and a forwarded
host never reflected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from support.hardening import Running
from support.web import client_for

from qa.engine import Engine
from qa.web.proxies import ForwardedHeaders, TrustedProxies


@pytest.fixture(scope="module")
def client(seed_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with client_for(seed_engine, tmp_path_factory.mktemp("proxies"), rate_limit=100_000) as test_client:
        yield test_client


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


def test_forwarded_headers_must_parse(running: Running):
    garbage = httpx.get(running.url + "healthz", headers={"X-Forwarded-For": "garbage"}, timeout=30)
    assert garbage.status_code == 400 and "X-Forwarded-For" in garbage.json()["error"]
    fine = httpx.get(running.url + "healthz", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
    assert fine.status_code == 200
    for host in ("evil.example/<script>", "evil example", "a" * 300):
        config = httpx.get(running.url + "config", headers={"X-Forwarded-Host": host}, timeout=30)
        assert config.status_code == 200 and host not in config.text
