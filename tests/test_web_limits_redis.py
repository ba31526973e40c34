"""The rate limit shared through a real Redis (``QA_RATE_LIMIT_STORAGE=redis://…``).

Two limiters, then two apps, stand for two processes of one deployment: together they allow the
limit once, not once each. Redis stopped: every request is still answered, each process counts
in its own memory, ``/healthz`` says ``rate_limits: fallback`` and ``status: degraded``; Redis back:
``shared`` again after the retry interval. These tests use the ``redis`` fixture (a real
``redis-server`` on loopback, :mod:`support.servers`), so they are marked ``servers``:
``pytest -m servers -n 0 tests/test_web_limits_redis.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.servers import Redis
from support.web import client_for

from qa.engine import Engine
from qa.web.limits import RateLimiter

CLIENT = "192.0.2.1"


def test_two_limiters_share_one_count_in_redis(redis: Redis):
    redis.flush()
    first, second = RateLimiter(limit=4, storage=redis.url), RateLimiter(limit=4, storage=redis.url)
    assert first.state == second.state == "shared"
    allowed = [limiter.allow(CLIENT) for limiter in (first, second) * 4]
    assert allowed == [True] * 4 + [False] * 4  # 4 in all, not 4 each
    assert not first.allow(CLIENT) and not second.allow(CLIENT)
    assert first.allow("192.0.2.2") and second.allow("192.0.2.2")  # another client, its own count
    wait = first.retry_after(CLIENT)  # from the window's stats, in Redis
    assert 55 < wait <= 60 and abs(second.retry_after(CLIENT) - wait) < 1
    assert second.retry_after("192.0.2.2") == 0
    import redis as redis_client

    connection = redis_client.Redis.from_url(redis.url)
    keys = connection.keys("*")
    assert len(keys) == 2 and all(key.startswith(b"qa:") for key in keys)  # namespaced
    assert all(0 < connection.ttl(key) <= 60 for key in keys)  # an address is kept at most the window


def test_the_shared_window_moves(redis: Redis):
    redis.flush()
    first, second = (RateLimiter(limit=2, window=1, storage=redis.url) for _ in range(2))
    assert first.allow(CLIENT) and second.allow(CLIENT)
    assert not first.allow(CLIENT) and not second.allow(CLIENT)
    time.sleep(1.1)
    assert second.allow(CLIENT) and first.allow(CLIENT)
    assert not first.allow(CLIENT)


def test_redis_down_falls_back_to_memory_and_comes_back(redis: Redis, caplog: pytest.LogCaptureFixture):
    redis.flush()
    limiter = RateLimiter(limit=2, storage=redis.url, retry_interval=0.5)
    assert limiter.allow(CLIENT) and limiter.state == "shared"
    caplog.set_level(logging.WARNING, logger="qa.web.limits")
    redis.stop()
    try:
        started = time.monotonic()
        allowed = [limiter.allow(CLIENT) for _ in range(3)]  # never raises
        assert time.monotonic() - started < 1.5  # one connection attempt, then memory
        assert allowed == [True, True, False]  # the memory count starts afresh: the limit per process
        assert limiter.retry_after(CLIENT) > 55
        assert limiter.state == "fallback"
        time.sleep(0.6)
        assert limiter.state == "fallback"  # tried again (a PING), still down
    finally:
        redis.start()
    time.sleep(0.6)
    assert limiter.state == "shared"
    assert limiter.allow(CLIENT)  # Redis came back empty (no dump): a fresh shared count
    warnings = [r.getMessage() for r in caplog.records if r.name == "qa.web.limits"]
    assert len(warnings) == 2, warnings  # one line a change, not one a request
    assert "Redis ne répond pas" in warnings[0] and "Redis répond de nouveau" in warnings[1]


@contextmanager
def two_apps(engine: Engine, tmp_path: Path, redis: Redis, limit: int) -> Iterator[list[TestClient]]:
    """Two apps (two processes of one deployment) counting in one Redis, each its own log."""
    with ExitStack() as stack:
        clients = []
        for name in ("one", "two"):
            folder = tmp_path / name
            folder.mkdir()
            client = stack.enter_context(
                client_for(engine, folder, rate_limit=limit, rate_limit_storage=redis.url)
            )
            client.app.state.assistant.limiter.retry_interval = 0.5  # the tests do not wait 5 s
            clients.append(client)
        yield clients


def ask(client: TestClient) -> int:
    return client.post("/api/ask", json={"question": "Bonjour"}).status_code


def test_two_apps_share_the_limit_through_redis(seed_engine: Engine, tmp_path: Path, redis: Redis):
    redis.flush()
    with two_apps(seed_engine, tmp_path, redis, limit=5) as (one, two):
        for client in (one, two):
            health = client.get("/healthz").json()
            assert (health["rate_limits"], health["status"]) == ("shared", "ok")
        codes = [ask(client) for client in (one, two) * 4]
        assert codes == [200] * 5 + [429] * 3  # 5 in all
        refused = two.post("/api/ask", json={"question": "Bonjour"})
        assert refused.status_code == 429 and "réessayez" in refused.json()["error"]
        assert 55 <= int(refused.headers["retry-after"]) <= 60
        assert ask(one) == 429


def test_apps_answer_with_redis_down_and_say_so(seed_engine: Engine, tmp_path: Path, redis: Redis):
    redis.flush()
    with two_apps(seed_engine, tmp_path, redis, limit=3) as (one, two):
        assert ask(one) == 200
        redis.stop()
        try:
            for client in (one, two):  # the limit per process, in its memory
                assert [ask(client) for _ in range(4)] == [200, 200, 200, 429]
                health = client.get("/healthz").json()
                assert (health["rate_limits"], health["status"]) == ("fallback", "degraded")
        finally:
            redis.start()
        time.sleep(0.6)  # the retry interval
        for client in (one, two):
            health = client.get("/healthz").json()
            assert (health["rate_limits"], health["status"]) == ("shared", "ok")
        assert [ask(client) for client in (one, two) * 2] == [200, 200, 200, 429]  # shared again
