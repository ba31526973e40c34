"""New articles without a restart: a running app takes up the index ``qa index`` saved meanwhile.

Fast tests with the fake encoder drive :class:`qa.web.reload.IndexWatcher` over an assistant; the
last test (model) runs the real app and the real ``qa index`` command in subprocesses.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import ARTICLES, DATA, REPO, SEED
from support.web import app_process, free_port

from qa.article import Article, load_article, load_articles
from qa.engine import Engine, Settings
from qa.index import build
from qa.index.store import MANIFEST, load, save
from qa.web.config import WebSettings
from qa.web.feedback import FeedbackStore
from qa.web.reload import IndexWatcher, watch_index
from qa.web.server import create_app
from qa.web.service import Assistant

CAFE = DATA / "cafe_sommeil.md"
VELO = DATA / "velo_ville.html"
CAFE_QUESTION = (
    "Combien de minutes de sommeil profond la caféine bue après dix-huit heures fait-elle perdre ?"
)
INTERVAL = 0.05  # seconds between two looks at the manifest, in the fast tests


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An articles folder holding the seed article, and an empty index folder."""
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    return articles, tmp_path / "index"


@pytest.fixture
def assistant(folders: tuple[Path, Path], tmp_path: Path) -> Assistant:
    """An assistant serving the seed article (its index built and saved), with a feedback store."""
    articles, index = folders
    return Assistant(fake_engine_for((articles,), index), FeedbackStore(tmp_path / "f.sqlite3"))


@pytest.fixture
def watcher(assistant: Assistant) -> Iterator[IndexWatcher]:
    watcher = IndexWatcher(assistant, INTERVAL)
    yield watcher
    watcher.stop()


def publish(articles: Path, index: Path, *added: Path) -> None:
    """What an editor does: copy articles into the folder and run ``qa index`` (here with the fake model)."""
    for path in added:
        shutil.copy(path, articles / path.name)
    Engine.load(Settings(articles=(articles,), index_dir=index), encoder=FakeEncoder())


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``condition`` holds; fails the test after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


def cites(assistant: Assistant, article: Article) -> bool:
    answer, _ = assistant.ask(CAFE_QUESTION)
    return bool(answer.passages) and answer.passages[0].article == article.id


def test_the_watcher_takes_up_an_index_with_a_new_article(
    assistant: Assistant, watcher: IndexWatcher, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    articles, index = folders
    first, cafe = assistant.engine, load_article(CAFE)
    caplog.set_level(logging.INFO, logger="qa.web.reload")
    watcher.start()
    time.sleep(5 * INTERVAL)
    assert assistant.engine is first and watcher.switches == 0  # the index in service: nothing to do
    assert not cites(assistant, cafe) and cafe.id not in assistant.articles
    publish(articles, index, CAFE)
    eventually(lambda: watcher.switches == 1, timeout=20 * INTERVAL + 2)
    assert assistant.engine is not first
    assert assistant.engine.encoder is first.encoder  # the model already loaded, not another
    assert list(assistant.articles) == [load_article(SEED).id, cafe.id]
    assert assistant.health()["generation"] != first.health()["generation"]
    assert cites(assistant, cafe)
    assert "nouvel index en service : 2 articles" in caplog.text


def test_questions_asked_during_the_switches_never_fail(
    assistant: Assistant, watcher: IndexWatcher, folders: tuple[Path, Path]
) -> None:
    articles, index = folders
    stop, failures, answered = threading.Event(), [], [0]

    def ask() -> None:
        while not stop.is_set():
            try:
                answer, _ = assistant.ask(CAFE_QUESTION)
                assert answer.passages
                answered[0] += 1
            except Exception as error:  # noqa: BLE001 - any failure is the test's
                failures.append(error)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for thread in askers:
        thread.start()
    watcher.start()
    try:
        for switches, added in enumerate([(CAFE,), (VELO,), ()], start=1):
            if not added:  # an article withdrawn: the index rebuilt without it is taken up too
                (articles / VELO.name).unlink()
            publish(articles, index, *added)
            eventually(lambda n=switches: watcher.switches == n)
            time.sleep(5 * INTERVAL)
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=30)
    assert not failures, failures[:3]
    assert answered[0] > 10
    assert list(assistant.articles) == [load_article(SEED).id, load_article(CAFE).id]
    assert cites(assistant, load_article(CAFE))


def test_an_index_that_does_not_match_the_articles_is_ignored_until_the_next(
    assistant: Assistant, watcher: IndexWatcher, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    articles, index = folders
    first = assistant.engine
    watcher.check()  # the index in service
    # qa index ran for the seed and the café articles, then an editor added the bike article
    shutil.copy(CAFE, articles / CAFE.name)
    save(build([load_article(SEED), load_article(CAFE)], FakeEncoder()), index)
    shutil.copy(VELO, articles / VELO.name)
    caplog.set_level(logging.INFO, logger="qa.web.reload")
    assert not watcher.check()
    assert not watcher.check()  # the same manifest: not tried again
    assert assistant.engine is first
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "articles ont changé" in warnings[0].getMessage()
    assert warnings[0].getMessage().startswith(f"nouvel index {index} non utilisé")
    assert not cites(assistant, load_article(CAFE))
    publish(articles, index)  # qa index again: now it matches
    assert watcher.check()
    assert len(assistant.articles) == 3 and cites(assistant, load_article(CAFE))


def test_an_index_that_fails_to_load_leaves_the_engine_in_service(
    assistant: Assistant, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    articles, index = folders
    first, calls = assistant.engine, []

    def failing(settings: Settings, current: Engine) -> Engine:
        calls.append(settings)
        raise MemoryError

    watcher = IndexWatcher(assistant, INTERVAL, loader=failing)
    publish(articles, index, CAFE)
    caplog.set_level(logging.WARNING, logger="qa.web.reload")
    assert not watcher.check() and assistant.engine is first
    assert "MemoryError" in caplog.text
    assert calls[0].articles == (articles,) and calls[0].index_dir == index
    watcher.wake()  # as SIGHUP: tried again although the manifest did not change
    watcher.loader = lambda settings, current: Engine.load(settings, encoder=current.encoder)
    assert watcher.check() and len(assistant.articles) == 2


def test_the_serving_process_never_rebuilds_the_index(
    assistant: Assistant, watcher: IndexWatcher, folders: tuple[Path, Path]
) -> None:
    articles, index = folders
    shutil.copy(CAFE, articles / CAFE.name)  # an article added, qa index not run yet
    (index / MANIFEST).touch()  # and the manifest looks changed
    before = {p.name: p.read_bytes() for p in index.iterdir()}
    encoder = assistant.engine.encoder
    calls = encoder.passage_calls
    assert not watcher.check()
    assert encoder.passage_calls == calls  # nothing embedded
    assert {p.name: p.read_bytes() for p in index.iterdir()} == before


def test_sighup_looks_at_once(assistant: Assistant, folders: tuple[Path, Path]) -> None:
    articles, index = folders
    before = signal.getsignal(signal.SIGHUP)
    watcher = IndexWatcher(assistant, interval=3600)
    assert watcher.handle_sighup()
    try:
        watcher.start()
        time.sleep(0.2)  # the first look, at start
        publish(articles, index, CAFE)
        os.kill(os.getpid(), signal.SIGHUP)
        eventually(lambda: watcher.switches == 1, timeout=5)
    finally:
        watcher.stop()
    assert signal.getsignal(signal.SIGHUP) is before  # given back when the watcher stops
    assert len(assistant.articles) == 2


def test_sighup_is_left_alone_outside_the_main_thread(assistant: Assistant) -> None:
    installed = []
    before = signal.getsignal(signal.SIGHUP)
    thread = threading.Thread(target=lambda: installed.append(IndexWatcher(assistant, 1).handle_sighup()))
    thread.start()
    thread.join()
    assert installed == [False] and signal.getsignal(signal.SIGHUP) is before


def test_an_app_watches_only_when_asked(seed_engine: Engine, tmp_path: Path, folders) -> None:
    settings = WebSettings(feedback_db=tmp_path / "f.sqlite3")
    app = create_app(seed_engine, settings)
    assert not hasattr(app.state, "index_watcher")
    articles, index = folders
    engine = fake_engine_for((articles,), index)
    app = create_app(engine, settings)
    watcher = watch_index(app, engine.settings, INTERVAL)
    assert app.state.index_watcher is watcher and watcher.assistant is app.state.assistant
    before = signal.getsignal(signal.SIGHUP)
    with TestClient(app, base_url="http://127.0.0.1:7860") as client:  # the lifespan starts it
        assert watcher._thread is not None and watcher._thread.is_alive()
        assert signal.getsignal(signal.SIGHUP) is before  # not the main thread: SIGHUP left alone
        publish(articles, index, CAFE)
        eventually(lambda: client.get("/healthz").json()["articles"] == 2)
        found = client.get(f"/api/articles/{load_article(CAFE).id}")
        assert found.status_code == 200
        answer = client.post("/api/ask", json={"question": CAFE_QUESTION}).json()
        assert answer["passages"][0]["article"] == load_article(CAFE).id
    assert not watcher._thread.is_alive()  # and stops it


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folders: tuple[Path, Path]) -> dict:
    """The app's start-up with the fake encoder: engine loads recorded, no uvicorn, no logging set-up."""
    import logging.config

    from qa import engine as library

    articles, index = folders
    loads: list[Settings] = []
    real = library.Engine.load

    def fake_load(settings: Settings | None = None, encoder: object = None) -> Engine:
        loads.append(settings)
        return real(settings, encoder=encoder or FakeEncoder())

    monkeypatch.setattr(library.Engine, "load", fake_load)
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    served: dict = {}
    monkeypatch.setattr("qa.web.server.uvicorn.run", lambda app, **options: served.update(app=app))
    monkeypatch.setenv("QA_ARTICLES", str(articles))
    monkeypatch.setenv("QA_INDEX_DIR", str(index))
    monkeypatch.setenv("QA_INDEX_CHECK", "7")
    monkeypatch.setenv("QA_FEEDBACK_DB", str(tmp_path / "f.sqlite3"))
    return {"loads": loads, "served": served, "articles": articles, "index": index}


@pytest.mark.parametrize("entry", ["server.main", "asgi.create_app"])
def test_the_app_s_own_start_ups_watch_the_index(started: dict, entry: str) -> None:
    from qa.web import asgi, server

    if entry == "server.main":
        assert server.main(["--port", "7999"]) == 0
        app = started["served"]["app"]
    else:
        app = asgi.create_app()
    watcher = app.state.index_watcher
    assert watcher.interval == 7 and watcher.assistant is app.state.assistant
    assert watcher.settings == started["loads"][0]  # the library settings the engine was loaded with
    assert watcher.index_dir == started["index"] and watcher.settings.articles == (started["articles"],)
    assert watcher._thread is None  # started by the app's lifespan, not before


# --- the real app and the real ``qa index`` ---------------------------------------------------------


def test_a_published_article_is_answered_by_the_running_app(
    real_engine: Engine, real_index_dir: Path, model_cache: Path, tmp_path: Path
) -> None:
    """``python app.py`` answers continuously while ``qa index`` runs; then answers from the new article."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(ARTICLES, articles)
    shutil.copytree(real_index_dir, index)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {
        "QA_CACHE_DIR": str(model_cache),
        "QA_ARTICLES": str(articles),
        "QA_INDEX_DIR": str(index),
        "QA_INDEX_CHECK": "1",
        "QA_FEEDBACK_DB": str(tmp_path / "f.sqlite3"),
        "QA_RATE_LIMIT": "100000",
        "HF_HUB_OFFLINE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]),
    }
    cafe = load_article(CAFE)
    log = tmp_path / "app.log"
    launched = time.monotonic()
    with app_process(env, log, port, timeout=120) as url:
        statuses, cited = [], []
        stop = threading.Event()

        def ask() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    reply = client.post(url + "api/ask", json={"question": CAFE_QUESTION})
                    statuses.append(reply.status_code)
                    if reply.status_code == 200 and (passages := reply.json()["passages"]):
                        cited.append((time.time(), passages[0]["article"], reply.json()["status"]))
                    stop.wait(0.2)  # continuously, yet leaving qa index the CPU it needs

        asker = threading.Thread(target=ask)
        asker.start()
        print(f"\napp prête en {time.monotonic() - launched:.1f} s")
        try:
            shutil.copy(CAFE, articles / CAFE.name)
            started = time.time()
            done = subprocess.run(
                [str(Path(sys.executable).parent / "qa"), "index"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            finished = time.time()
            assert done.returncode == 0, done.stderr
            eventually(lambda: any(a == cafe.id for _, a, _ in cited), timeout=10)
            first = next(t for t, a, _ in cited if a == cafe.id)
            switched = (index / MANIFEST).stat().st_mtime
        finally:
            stop.set()
            asker.join(timeout=60)
        health = httpx.get(url + "healthz").json()
    print(
        f"qa index : {finished - started:.1f} s ; nouvel article servi {first - switched:.2f} s après "
        f"le remplacement du manifeste, {first - finished:+.2f} s après la fin de la commande"
    )
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    assert health["articles"] == 2
    assert cited[-1][1:] == (cafe.id, "answered")
    text = log.read_text(encoding="utf-8")
    assert "nouvel index en service : 2 articles" in text and "Traceback" not in text
    print(len(statuses), "questions,", *[line for line in text.splitlines() if "nouvel index" in line])
    load(index, load_articles((articles,)), real_engine.encoder)  # the index qa index saved


def loaded_page(url: str, session: str, article: str | None = None) -> str:
    """What the public page's load event puts on a new visitor's page (``?article=`` if given)."""
    from support.web import event_id, queue_messages

    body = {"data": [article], "fn_index": event_id(url, "load_scope"), "session_hash": session}
    assert httpx.post(url + "gradio_api/queue/join", json=body, timeout=30).status_code == 200
    [done] = [m for m in queue_messages(url, session) if m["msg"] == "process_completed"]
    return str(done["output"])


def test_a_page_loaded_after_the_switch_shows_the_new_article(folders: tuple[Path, Path], tmp_path: Path):
    from support.web import serving

    articles, index = folders
    engine = fake_engine_for((articles,), index)
    cafe = load_article(CAFE)
    with serving(engine, tmp_path / "f.sqlite3") as app:
        before = loaded_page(app.url, "before")
        publish(articles, index, CAFE)
        app.server.server.config.app.state.assistant.replace_engine(fake_engine_for((articles,), index))
        after = loaded_page(app.url, "after")
        scoped = loaded_page(app.url, "scoped", cafe.id)
    seed = f'data-article="{load_article(SEED).id}"'
    assert f'data-article="{cafe.id}"' not in before and seed in before
    assert f'data-article="{cafe.id}"' in after and seed in after
    assert f'data-article="{cafe.id}"' in scoped and seed not in scoped


def staff_loads(url: str, session: str) -> str:
    """What the staff page's load events put on a new page: their outputs, one string."""
    from support.web import queue_messages

    config = httpx.get(url + "staff/config", timeout=30).json()
    loads = [d for d in config["dependencies"] if any(t[1] == "load" for t in d["targets"])]
    outputs = []
    for event in loads:
        number = event["id"]
        data = [None] * len(event["inputs"])
        body = {"data": data, "fn_index": number, "session_hash": f"{session}-{number}"}
        assert httpx.post(url + "staff/gradio_api/queue/join", json=body, timeout=30).status_code == 200
        messages = queue_messages(url + "staff/", f"{session}-{number}")
        outputs += [str(m["output"]) for m in messages if m["msg"] == "process_completed"]
    assert len(outputs) == len(loads)
    return "".join(outputs)


def test_a_staff_page_loaded_after_the_switch_offers_the_new_article(
    folders: tuple[Path, Path], tmp_path: Path
):
    from support.web import serving

    articles, index = folders
    cafe = load_article(CAFE)
    with serving(fake_engine_for((articles,), index), tmp_path / "f.sqlite3") as app:
        before = staff_loads(app.url, "before")
        publish(articles, index, CAFE)
        app.server.server.config.app.state.assistant.replace_engine(fake_engine_for((articles,), index))
        after = staff_loads(app.url, "after")
    seed = load_article(SEED)
    assert seed.id in before and cafe.id not in before
    # Both lists (the diagnosis's scope and the article to verify against) offer it.
    assert after.count(f"'{cafe.id}'") == 2 and after.count(f"'{seed.id}'") >= 2
