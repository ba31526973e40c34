"""The recipe of ``deploy/``, run for real: two app processes behind nginx, one PostgreSQL, one Redis.

The processes start as ``deploy/qa-web@.service`` starts them (its ``ExecStart``, made local by
:func:`bench.harness.cluster.unit_command`), with the real model, each on its own loopback port;
nginx serves ``deploy/nginx/qa.conf`` as it is, but for its ports (:func:`site_config`). The
question log, votes and verifications are in a PostgreSQL database, the rate limits in Redis,
both started by the tests (:mod:`support.servers`). Clients come from different loopback
addresses (127.0.0.x): nginx passes each one's address on, and the app counts each apart.

Marked ``model`` and ``servers`` by the fixtures they use: ``make test`` runs them, ``pytest`` alone
does not. The tests run in order on one cluster; the last one kills a process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from support.paths import DATA, SEED
from support.servers import Postgres, Redis, free_port
from support.web import queue_messages

from bench.harness.cluster import Nginx, new_nginx, site_config, start_processes
from bench.harness.server import Server

LIMIT = 20  # QA_RATE_LIMIT of the cluster: questions and votes a minute and client
PASSWORD = "mot-de-passe-du-test"
SEED_QUESTION = "Sur quel animal a-t-on testé l'indole-3-carbinol ?"
NEW_ARTICLE = DATA / "cafe_sommeil.md"
NEW_QUESTION = "Combien de volontaires les chercheurs de Lyon ont-ils suivis ?"
ANSWER_ID = re.compile(r'data-qa-id=\\?"([^"\\]+)')


def client(address: str, timeout: float = 60) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (a 127.0.0.x of its own)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)


@dataclass
class Cluster:
    """Two app processes, nginx in front, their database and Redis, and their articles and index."""

    processes: list[Server]
    nginx: Nginx
    url: str  # nginx, with a trailing slash
    articles: Path
    env: dict[str, str]
    postgres: Postgres
    database: str  # its SQLAlchemy URL
    addresses: Iterator[str] = field(
        default_factory=lambda: iter(f"127.0.{a}.{b}" for a in range(1, 255) for b in range(2, 255))
    )
    visitors: Iterator[str] = field(
        default_factory=lambda: iter(f"10.0.{a}.{b}" for a in range(1, 255) for b in range(1, 255))
    )

    def direct(self, n: int) -> str:
        """The URL of process ``n`` itself, not through nginx."""
        return self.processes[n].url + "/"

    def address(self) -> str:
        """A loopback address no other client used (nginx passes it on: its own rate-limit count)."""
        return next(self.addresses)

    def ask_directly(self, n: int, question: str) -> httpx.Response:
        """Ask process ``n`` itself, as a new visitor behind the trusted proxy (127.0.0.1)."""
        visitor = {"X-Forwarded-For": next(self.visitors)}
        return httpx.post(
            self.direct(n) + "api/ask", json={"question": question}, headers=visitor, timeout=60
        )

    def export(self, n: int) -> str:
        """The staff's CSV export of the question log, from process ``n``."""
        response = httpx.get(self.direct(n) + "staff/export.csv", auth=("staff", PASSWORD), timeout=30)
        assert response.status_code == 200, response.text[:300]
        return response.text

    def health(self, n: int) -> dict:
        """``/healthz`` of process ``n``."""
        return httpx.get(self.direct(n) + "healthz", timeout=30).json()


def run_qa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The ``qa`` command line of this checkout, with ``env`` added."""
    code = "import sys; from qa.cli import run; sys.exit(run(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def cluster(
    postgres: Postgres, redis: Redis, model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    articles = folder / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles)
    redis.flush()
    database = postgres.new_database()
    env = {
        "QA_ARTICLES": str(articles),
        "QA_INDEX_DIR": str(folder / "index"),
        "QA_CACHE_DIR": str(model_cache),
        "QA_DATABASE_URL": database,
        "QA_RATE_LIMIT_STORAGE": redis.url,
        "QA_RATE_LIMIT": str(LIMIT),
        "QA_STAFF_PASSWORD": PASSWORD,
        "QA_INDEX_CHECK": "1",
    }
    built = run_qa("index", env=env)  # as the recipe says: build first, the processes only read it
    assert built.returncode == 0, built.stderr
    processes: list[Server] = []
    nginx = new_nginx()
    try:
        start_processes(processes, 2, env)
        listen = free_port()
        nginx.start(site_config([p.port for p in processes], listen), listen)
        yield Cluster(processes, nginx, f"http://127.0.0.1:{listen}/", articles, env, postgres, database)
    finally:
        nginx.stop()
        shutil.rmtree(nginx.folder, ignore_errors=True)
        for process in processes:
            process.stop()


def ask(http: httpx.Client, url: str, question: str = SEED_QUESTION) -> httpx.Response:
    return http.post(url + "api/ask", json={"question": question})


def test_a_burst_through_nginx_gets_no_5xx_and_both_processes_answer(cluster: Cluster):
    clients = [client(cluster.address()) for _ in range(16)]

    def burst(http: httpx.Client) -> list[int]:
        return [ask(http, cluster.url).status_code for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for found in pool.map(burst, clients) for s in found]
    ports = Counter(cluster.nginx.upstreams())
    print(f"\n{len(statuses)} questions through nginx: {Counter(statuses)}; by process: {dict(ports)}")
    assert statuses == [200] * 160
    assert all(ports[f"127.0.0.1:{p.port}"] > 0 for p in cluster.processes)


def hello(cluster: Cluster, n: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(cluster.direct(n) + "api/ask", json={"question": "Bonjour"}, headers=headers)


def test_the_rate_limit_holds_across_both_processes(cluster: Cluster):
    with client(cluster.address()) as http:
        responses = [ask(http, cluster.url) for _ in range(LIMIT + 6)]
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * LIMIT + [429] * 6
    refused = responses[-1]
    assert "Trop de questions" in refused.json()["error"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # the same visitor, asking each process directly (127.0.0.1 is the trusted proxy): refused by both
    visitor = {"X-Forwarded-For": "203.0.113.40"}
    for n in (0, 1):
        for _ in range(LIMIT // 2):
            answered = httpx.post(
                cluster.direct(n) + "api/ask", json={"question": "Bonjour"}, headers=visitor
            )
            assert answered.status_code == 200
    for n in (0, 1):
        over = hello(cluster, n, visitor)
        assert over.status_code == 429


def test_the_export_of_one_process_holds_the_questions_asked_of_the_other(cluster: Cluster):
    marked = [f"Qui a financé l'essai {uuid.uuid4().hex[:8]} ?" for _ in range(2)]
    for n, question in enumerate(marked):
        assert cluster.ask_directly(n, question).status_code == 200
    for n in (0, 1):
        exported = cluster.export(n)
        assert all(question in exported for question in marked)


def test_with_postgresql_stopped_questions_are_answered_and_healthz_says_the_log_is_down(cluster: Cluster):
    before = f"Avant la panne {uuid.uuid4().hex[:8]} : qui mène l'essai ?"
    during = f"Pendant la panne {uuid.uuid4().hex[:8]} : qui mène l'essai ?"
    after = f"Après la panne {uuid.uuid4().hex[:8]} : qui mène l'essai ?"
    http = client(cluster.address())
    assert ask(http, cluster.url, before).status_code == 200
    cluster.postgres.stop()
    try:
        answered = ask(http, cluster.url, during)
        assert answered.status_code == 200 and answered.json()["status"]
        for n in (0, 1):
            health = cluster.health(n)
            assert health["status"] == "degraded" and health["log"] == "unavailable", health
    finally:
        cluster.postgres.start()
    deadline = time.monotonic() + 20
    while not all(cluster.health(n)["log"] == "ok" for n in (0, 1)):
        assert time.monotonic() < deadline, "the log did not come back"
        time.sleep(0.5)
    assert ask(http, cluster.url, after).status_code == 200
    exported = cluster.export(0)
    assert before in exported and after in exported and during not in exported


def test_an_article_added_with_qa_index_is_answered_within_seconds_and_no_request_fails(cluster: Cluster):
    statuses: list[int] = []
    stop = threading.Event()

    def burst() -> None:
        while True:
            if stop.is_set():
                return
            with client(cluster.address()) as http:  # a new visitor now and then: under the limit
                for _ in range(LIMIT // 2):
                    statuses.append(ask(http, cluster.url).status_code)
                    if stop.is_set():
                        return

    served = {cluster.health(n)["generation"] for n in (0, 1)}
    load = threading.Thread(target=burst, daemon=True)
    load.start()
    try:
        shutil.copy(NEW_ARTICLE, cluster.articles)
        built = run_qa("index", env=cluster.env)
        assert built.returncode == 0, built.stderr
        published = time.monotonic()
        waited: dict[int, float] = {}
        while len(waited) < 2:
            assert time.monotonic() - published < 30, f"new article not answered: {waited}"
            for n in {0, 1} - set(waited):
                found = cluster.ask_directly(n, NEW_QUESTION).json()
                if found["passages"] and found["passages"][0]["article"] == "cafe_sommeil":
                    waited[n] = time.monotonic() - published
            time.sleep(0.2)
    finally:
        stop.set()
        load.join(timeout=60)
    print(f"\nnew article answered {waited} s after `qa index`; {len(statuses)} questions meanwhile")
    assert statuses and set(statuses) == {200}
    now = {cluster.health(n)["generation"] for n in (0, 1)}
    assert len(served) == len(now) == 1 and now != served  # one index before, one after, everywhere


def vote_through(http: httpx.Client, url: str, session: str, respond: int, vote: int) -> bool:
    """Ask on the chat, then give the answer a thumbs up, as a visitor does; whether it was acknowledged."""
    body = {"data": [SEED_QUESTION, [], None, None, None], "fn_index": respond, "session_hash": session}
    messages = events(http, url, session, body)
    ident = ANSWER_ID.findall(json.dumps(messages))[-1]
    event = {"index": [1, 0], "value": {"content": f'<div data-qa-id="{ident}"></div>'}, "liked": True}
    body = {"data": [None], "fn_index": vote, "session_hash": session, "event_data": event}
    return "Merci, votre avis est enregistré." in json.dumps(
        events(http, url, session, body), ensure_ascii=False
    )


def events(http: httpx.Client, url: str, session: str, body: dict) -> list[dict]:
    """Join one Gradio event of ``session`` and read its messages until it completes."""
    http.post(url + "gradio_api/queue/join", json=body).raise_for_status()
    return queue_messages(url, session, http=http)


def test_a_process_killed_mid_burst_loses_no_acknowledged_vote_and_nginx_turns_to_the_other(cluster: Cluster):
    config = httpx.get(cluster.url + "config").json()
    fn = {d.get("api_name"): d["id"] for d in config["dependencies"]}
    acknowledged: list[str] = []
    failures: list[str] = []
    questions: list[int] = []
    stop = threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            session = uuid.uuid4().hex[:10]
            try:
                with client(cluster.address(), timeout=30) as http:
                    if vote_through(http, cluster.url, session, fn["respond"], fn["vote"]):
                        acknowledged.append(session)
                    questions.append(ask(http, cluster.url).status_code)
            except (httpx.HTTPError, IndexError) as error:  # a session on the killed process
                failures.append(type(error).__name__)

    visitors = [threading.Thread(target=visitor, daemon=True) for _ in range(4)]
    for thread in visitors:
        thread.start()
    time.sleep(4)
    victim = cluster.processes[0]
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=30)
    killed_at = len(questions)
    time.sleep(6)
    stop.set()
    for thread in visitors:
        thread.join(timeout=90)
    with psycopg.connect(cluster.database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM feedback WHERE verdict = 'up'").fetchone()[0]
    print(
        f"\n{len(acknowledged)} votes acknowledged, {stored} stored; {len(failures)} sessions cut: {failures}"
    )
    assert acknowledged and stored >= len(acknowledged)
    after = questions[killed_at:]
    assert after and set(after) == {200}, Counter(after)  # nginx sends the questions to the survivor
    assert httpx.get(cluster.url + "healthz").status_code == 200
