"""The question log's store on a real PostgreSQL (and the same tests on SQLite where they apply).

The ``postgres`` fixture (support.servers) is a server of its own on a loopback port; each test
takes a fresh database. Tests that use it are marked ``servers``: ``pytest -m servers -n 0``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.fakes import FakeEncoder
from support.paths import SEED
from support.samples import LOGGED_ANSWER as ANSWER
from support.servers import Postgres

import qa.engine
from qa.article import Span, load_article
from qa.cli import run
from qa.engine import Engine
from qa.web import feedback
from qa.web.config import WebSettings
from qa.web.feedback import FeedbackStore, cited_passages
from qa.web.schema import SCHEMA_VERSION, schema_version
from qa.web.server import create_app
from qa.web.staff import _problem as staff_notice
from qa.web.verifications import VerificationStore, Withdrawal


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL on each engine: a SQLite file, a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'f.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake encoder wherever the CLI loads a model."""
    monkeypatch.setattr(qa.engine, "load_encoder", lambda model, indexed=None: FakeEncoder())


@pytest.fixture
def database(postgres: Postgres) -> str:
    """A fresh, empty PostgreSQL database's URL."""
    return postgres.new_database()


def plain(url: str) -> str:
    """``url`` as psycopg reads it (a separate client, as another program would be)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- on both engines ------------------------------------------------------------------------------


def test_log_vote_and_questions_round_trip(url: str):
    store = FeedbackStore(url)
    assert store.available and store.problem is None
    log_id = store.log_question(ANSWER)
    assert isinstance(log_id, int)
    assert store.record_feedback(log_id, ANSWER, "down") and store.record_feedback(log_id, ANSWER, "up")
    follow_up = store.log_question(ANSWER | {"status": "no_answer", "context": {"from": "Avant ?"}})
    newest, first = store.questions()
    assert (first.id, first.question, first.status, first.feedback) == (
        log_id,
        ANSWER["question"],
        "answered",
        "up",
    )
    assert first.passages == cited_passages(ANSWER) and first.cited_sentence == "chez la souris"
    assert (newest.id, newest.context, newest.feedback) == (follow_up, "Avant ?", None)
    assert [r.id for r in store.questions("no_answer")] == [follow_up] and store.questions("x") == []
    assert store.question(log_id) == first and store.question(2**63 - 1) is None
    assert store.feedback_count() == 2
    assert store.record_feedback(log_id, ANSWER, "none") and store.question(log_id).feedback is None


def test_verifications_round_trip_and_one_withdrawal_wins(url: str):
    store = VerificationStore(FeedbackStore(url))
    assert store.version() == (0, 0) and store.records() == []
    made = store.add("Qui ?", None, None, None, None, " equipe ")
    assert made and made.verification.author == "equipe"
    others = [VerificationStore(FeedbackStore(url)) for _ in range(4)]  # as many processes
    outcomes: list[Withdrawal] = []
    threads = [
        threading.Thread(target=lambda s=s: outcomes.append(s.withdraw(made.verification.id, "chef")))
        for s in others
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == ["already"] * 3 + ["done"]
    assert store.withdraw(999, "chef") is Withdrawal.UNKNOWN
    [record] = store.records()
    assert record.withdrawn and record.withdrawn.by == "chef" and not record.in_force
    assert store.get(made.verification.id) == record and store.version() == (1, 1)


def test_two_stores_on_one_database_see_each_others_rows(url: str):
    here, there = FeedbackStore(url), FeedbackStore(url)  # two processes' views
    asked = here.log_question(ANSWER)
    assert there.record_feedback(asked, ANSWER, "up")
    assert [(r.id, r.feedback) for r in here.questions()] == [(asked, "up")]
    lost: list[int | None] = []

    def write(target: FeedbackStore) -> None:
        for _ in range(20):
            lost.append(target.log_question(ANSWER))

    threads = [threading.Thread(target=write, args=(s,)) for s in (here, there) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert None not in lost and len(set(lost)) == 80 and len(there.questions()) == 81


def test_the_schema_is_recorded_and_reopening_changes_nothing(url: str):
    first = FeedbackStore(url)
    asked = first.log_question(ANSWER)
    again = FeedbackStore(url)
    assert again.available and [r.id for r in again.questions()] == [asked]
    engine = create_engine(url)
    with engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar() == "4"
    engine.dispose()


def test_verified_export_reads_a_database_url(
    url: str, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
):
    article = load_article(SEED)
    passage = article.passages[2]
    made = VerificationStore(FeedbackStore(url)).add(
        "Quel hôpital a mené l'essai ?", None, article, Span(passage.start, passage.end), None, "léa"
    )
    assert made
    where = ["--articles", str(SEED), "--index-dir", str(tmp_path / "index")]
    assert run(["verified", "export", *where, "--store", url.replace("+psycopg", "")]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["q"] == "Quel hôpital a mené l'essai ?" and row["gold"] == [article.text(passage)]


def test_a_path_or_a_url_names_the_database(tmp_path: Path):
    assert feedback.database_url(tmp_path / "f.sqlite3").database == str(tmp_path / "f.sqlite3")
    assert feedback.database_url("postgresql://u:p@h:5432/db").drivername == "postgresql+psycopg"
    assert feedback.database_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"
    store = FeedbackStore(f"sqlite:///{tmp_path / 'url.sqlite3'}")
    assert store.sqlite and store.path == tmp_path / "url.sqlite3" and store.log_question(ANSWER) == 1
    assert [r.id for r in FeedbackStore(tmp_path / "url.sqlite3").questions()] == [1]  # the same file
    with pytest.raises(ValueError, match="adresse de base de données invalide"):
        FeedbackStore("pas une adresse")


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_postgres_tables_are_shared_with_any_client(database: str):
    store = FeedbackStore(database)
    asked = store.log_question(ANSWER)
    with psycopg.connect(plain(database)) as conn:
        assert conn.execute("SELECT id, question FROM questions").fetchall() == [(asked, ANSWER["question"])]
        conn.execute(
            "INSERT INTO feedback (question_id, given_at, question, passages, status, verdict)"
            " VALUES (%s, '2026-12-03T10:00:00+00:00', 'q', '[]', 'answered', 'down')",
            (asked,),
        )
    assert store.question(asked).feedback == "down"
    with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(plain(database)) as conn:
        conn.execute(
            "INSERT INTO feedback (question_id, given_at, question, passages, status, verdict)"
            " VALUES (NULL, 'now', 'q', '[]', 'answered', 'maybe')"
        )


def test_postgres_refuses_to_change_or_delete_a_verification(database: str):
    store = VerificationStore(FeedbackStore(database))
    made = store.add("Qui ?", None, None, None, None, "equipe")
    assert made and store.withdraw(made.verification.id, "equipe") is Withdrawal.DONE
    for statement in (
        "UPDATE verifications SET question = 'autre'",
        "DELETE FROM verifications",
        "TRUNCATE verifications CASCADE",
        "UPDATE verification_withdrawals SET author = 'autre'",
        "DELETE FROM verification_withdrawals",
        "TRUNCATE verification_withdrawals",
    ):
        with psycopg.connect(plain(database)) as conn, pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(statement)
    [record] = store.records()
    assert record.verification.question == "Qui ?" and record.withdrawn.by == "equipe"


def test_postgres_stores_what_sqlite_would(database: str, seed_engine: Engine):
    article = seed_engine.articles[0]
    store = VerificationStore(FeedbackStore(database))
    made = store.add("Qui ?", "Avant ?", article, Span(0, 50), Span(0, 20), "x" * 300)
    [again] = VerificationStore(FeedbackStore(database)).records()
    assert made and again.verification == made.verification and len(again.verification.author) == 100
    assert again.verification.checksum == article.sha256 and again.verification.passage == Span(0, 50)
    nul = store.store.log_question(ANSWER | {"question": "Qui\x00 ?"})  # PostgreSQL's text refuses NUL
    assert nul and store.store.question(nul).question == "Qui ?"


def test_two_processes_creating_the_schema_at_once_do_not_race(database: str):
    stores: list[FeedbackStore] = []
    barrier = threading.Barrier(6)

    def open_store() -> None:
        barrier.wait()
        stores.append(FeedbackStore(database))

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stores) == 6 and all(s.available for s in stores), [s.problem for s in stores]
    assert all(isinstance(s.log_question(ANSWER), int) for s in stores)
    with psycopg.connect(plain(database)) as conn:
        assert conn.execute("SELECT count(*) FROM questions").fetchone() == (6,)
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%kept'").fetchone()
        assert triggers == (2,)


@pytest.fixture
def stopped(postgres: Postgres) -> Iterator[Postgres]:
    """The server, to stop within the test: always running again afterwards."""
    try:
        yield postgres
    finally:
        if not postgres.running:
            postgres.start()


def test_a_database_down_at_start_is_made_at_the_first_write(
    stopped: Postgres, monkeypatch: pytest.MonkeyPatch
):
    database = stopped.new_database()
    stopped.stop()
    store = FeedbackStore(database)
    assert not store.available and store.problem and store.log_question(ANSWER) is None
    assert store.questions() == [] and VerificationStore(store).version() is None
    stopped.start()
    monkeypatch.setattr(feedback, "RETRY_SECONDS", 0.0)
    store._resting_until = 0.0  # the second of rest after the last failure is over
    assert isinstance(store.log_question(ANSWER), int) and store.available
    assert len(store.questions()) == 1


def test_a_stopped_database_is_survived_and_writes_resume(
    stopped: Postgres, seed_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(feedback, "CHECK_SECONDS", 0.0)  # each health check asks the server
    monkeypatch.setattr(feedback, "RETRY_SECONDS", 0.0)  # and so does each write
    database = stopped.new_database()
    settings = WebSettings(database_url=database, rate_limit=10_000)
    with TestClient(create_app(seed_engine, settings), base_url="http://127.0.0.1:7860") as client:
        store = client.app.state.assistant.store
        assert client.get("/healthz").json()["log"] == "ok"
        assert client.post("/api/ask", json={"question": "Bonjour"}).status_code == 200
        stopped.stop()
        health = client.get("/healthz").json()  # nobody wrote yet: the check sees it
        assert (health["status"], health["log"], health["feedback"]) == ("degraded", "unavailable", False)
        answered = client.post("/api/ask", json={"question": "Qu'est-ce que la ferroptose ?"})
        assert answered.status_code == 200 and answered.json()["status"]
        assert store.log_question(ANSWER) is None and store.record_feedback(None, ANSWER, "up") is False
        assert not store.available and "Operational" in (store.problem or "")
        assert VerificationStore(store).add("Qui ?", None, None, None, None, "a") is None
        notice = staff_notice(client.app.state.assistant)  # the staff log's notice, in French
        assert "Retours désactivés" in notice and "OperationalError" in notice
        stopped.start()
        health = client.get("/healthz").json()
        assert (health["status"], health["log"], health["feedback"]) == ("ok", "ok", True)
        assert client.post("/api/ask", json={"question": "Bonjour encore"}).status_code == 200
        assert store.available and [r.question for r in store.questions()] == ["Bonjour encore", "Bonjour"]
        assert staff_notice(client.app.state.assistant) == ""


def test_after_a_failure_the_server_is_left_alone_a_moment(stopped: Postgres):
    database = stopped.new_database()
    store = FeedbackStore(database)
    stopped.stop()
    assert store.log_question(ANSWER) is None
    problem = store.problem
    assert store.log_question(ANSWER) is None and store._resting()  # no new attempt: the same problem
    assert store.problem == problem and store.check() is False
    stopped.start()
    store._resting_until = 0.0
    assert isinstance(store.log_question(ANSWER), int) and store.available


# --- SQLite files of every earlier schema ---------------------------------------------------------

QUESTIONS_V1 = (
    "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL,"
    " question TEXT NOT NULL, status TEXT NOT NULL, passages TEXT NOT NULL{context});"
    "CREATE INDEX questions_status ON questions(status);"
)
FEEDBACK_V1 = (
    "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, question_id INTEGER REFERENCES"
    " questions(id), given_at TEXT NOT NULL, question TEXT NOT NULL, passages TEXT NOT NULL,"
    " status TEXT NOT NULL, verdict TEXT NOT NULL CHECK (verdict IN ({verdicts})));"
    "CREATE INDEX feedback_question ON feedback(question_id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
)
ROWS = (
    "INSERT INTO questions (asked_at, question, status, passages) VALUES"
    " ('2026-11-30T10:00:00+00:00', 'Ancienne question ?', 'answered', '[]');"
    "INSERT INTO feedback (question_id, given_at, question, passages, status, verdict) VALUES"
    " (1, '2026-11-30T10:01:00+00:00', 'Ancienne question ?', '[]', 'answered', 'down');"
)


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_sqlite_file_of_each_earlier_schema_keeps_its_rows(version: int, tmp_path: Path):
    import sqlite3

    path = tmp_path / f"v{version}.sqlite3"
    if version == 4:
        FeedbackStore(path)  # made by this schema: the upgrade has nothing to do
    else:
        context = ", context TEXT" if version >= 2 else ""
        verdicts = "'up', 'down', 'none'" if version >= 3 else "'up', 'down'"
        with sqlite3.connect(path) as conn:
            conn.executescript(
                QUESTIONS_V1.format(context=context) + FEEDBACK_V1.format(verdicts=verdicts) + ROWS
            )
            conn.execute(f"PRAGMA user_version={version}")
    if version == 4:
        with sqlite3.connect(path) as conn:
            conn.executescript(ROWS)
    store = FeedbackStore(path)
    assert store.available, store.problem
    [old] = store.questions()
    assert (old.question, old.feedback, old.context) == ("Ancienne question ?", "down", None)
    assert store.record_feedback(old.id, ANSWER, "none") and store.question(old.id).feedback is None
    assert VerificationStore(store).add("Qui ?", None, None, None, None, "a") is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("4",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"questions_status", "feedback_question"} <= indexes
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            conn.execute("DELETE FROM verifications")
    assert FeedbackStore(path).feedback_count() == 2  # and opening it again changes nothing


def test_a_wrong_password_or_host_is_a_problem_not_an_exception(
    postgres: Postgres, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
):
    url = f"postgresql+psycopg://nobody:secret@127.0.0.1:{postgres.port}/absent"
    store = FeedbackStore(url)
    assert not store.available and "secret" not in (store.problem or "")
    assert store.log_question(ANSWER) is None and store.questions() == []
    assert "secret" not in store.shown_url
    where = ["--articles", str(SEED), "--index-dir", str(tmp_path / "index")]
    assert run(["verified", "export", *where, "--store", url]) == 2
    error = capsys.readouterr().err
    assert "base indisponible" in error and "secret" not in error
