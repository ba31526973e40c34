"""What the server takes on (qa.web.limits): the rate limit shared by the API and Gradio (questions
count, clearing and loading the page do not, ``gradio_client`` gets a 429, Chromium shows the French
message), the limiter's moving window, Retry-After and memory under a flood
of addresses, the gate's bound on concurrency, its line
and its timeouts, overload a French 503/504 and not a hang, a slow body a 408, and the queues and
limits following the settings.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.browser import ask
from support.web import LiveServer, client_for, free_port, live

from qa.engine import Engine
from qa.web.config import WebSettings
from qa.web.errors import Refusal
from qa.web.gate import Gate
from qa.web.limits import RateLimiter, charge
from qa.web.server import create_app

# --- the rate limit -------------------------------------------------------------------------------


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


def test_rate_limiter_refuses_past_the_limit_and_does_not_count_refusals():
    limiter = RateLimiter(limit=3, window=1)
    assert limiter.state == "memory"
    assert all(limiter.allow("a") for _ in range(3))
    assert not limiter.allow("a")
    assert limiter.allow("b") and limiter.allow("b")  # each client its own count
    time.sleep(0.5)
    assert not any(limiter.allow("a") for _ in range(5))  # refused, not counted
    time.sleep(0.6)  # the first three hits left the window; the refusals were never in it
    assert all(limiter.allow("a") for _ in range(3))
    assert not limiter.allow("a")


def test_rate_limiter_window_moves_and_gives_the_time_to_wait():
    limiter = RateLimiter(limit=2, window=2)
    assert limiter.retry_after("a") == 0
    assert limiter.allow("a")
    time.sleep(1)
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert 0.5 < limiter.retry_after("a") <= 1.0  # until the first hit leaves the window
    time.sleep(limiter.retry_after("a") + 0.05)
    assert limiter.allow("a")  # the first hit left; a fixed window would have freed both
    assert not limiter.allow("a")  # the second is still in the window


def test_charge_refuses_with_retry_after_from_the_window():
    limiter = RateLimiter(limit=1)
    scope = {"type": "http", "client": ("192.0.2.7", 5000)}
    charge(limiter, scope)
    with pytest.raises(Refusal) as refused:
        charge(limiter, scope)
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] in ("59", "60")
    charge(limiter, {"type": "http", "client": ("192.0.2.8", 5000)})  # another client


def test_rate_limiter_memory_is_bounded_by_the_clients_of_the_last_window():
    # In place of the old max_keys: no client is forgotten while it has hits in the window (a flood
    # of new addresses cannot reset a limited client), and every client with none is forgotten at
    # least once a window (the library keeps an empty entry per client; RateLimiter drops them).
    window = 3  # seconds: the flood takes well under it, even on a busy machine
    limiter = RateLimiter(limit=3, window=window)
    events = limiter._memory.storage.events  # the ``limits`` memory storage's per-key hits
    started = time.monotonic()
    assert all(limiter.allow("abuser") for _ in range(3))
    for n in range(5_000):
        limiter.allow(f"10.0.{n // 256}.{n % 256}")
    assert time.monotonic() - started < window, "the flood outlasted the window: the test proves nothing"
    assert not limiter.allow("abuser")  # still counted
    assert len(events) == 5_001
    time.sleep(started + window + 0.2 - time.monotonic())
    assert limiter.allow("abuser")  # the window passed, and the flood is forgotten
    assert len(events) == 1 and len(limiter._memory.storage.locks) <= 1


# --- the gate -------------------------------------------------------------------------------------


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


# --- the settings ---------------------------------------------------------------------------------


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


# --- in a real browser (after the tests that run their own event loop: Playwright keeps one) ------


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
