"""The SQLite question log and feedback store: round trips, durability, failing safely, a full disk."""

from __future__ import annotations

import ctypes
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support.faults import fill
from support.samples import LOGGED_ANSWER as ANSWER
from support.web import event_id, gradio_events, live, respond_body

from qa.engine import Engine
from qa.web.feedback import FeedbackStore, cited_passages
from qa.web.schema import SCHEMA_VERSION


def other(status: str, question: str) -> dict:
    return {"question": question, "status": status, "message": "", "passages": []}


def rows_in(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def test_creates_folder_and_file_with_wal(tmp_path: Path):
    path = tmp_path / "data" / "deeper" / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert store.available and store.problem is None
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_log_and_feedback_round_trip(tmp_path: Path):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    log_id = store.log_question(ANSWER)
    assert isinstance(log_id, int)
    assert store.record_feedback(log_id, ANSWER, "down")
    assert store.record_feedback(log_id, ANSWER, "up")  # a second opinion: the latest counts
    [row] = store.questions()
    assert (row.id, row.question, row.status) == (log_id, ANSWER["question"], "answered")
    assert row.feedback == "up"
    assert row.passages == cited_passages(ANSWER)
    feedback = rows_in(path, "feedback")
    assert [f[-1] for f in feedback] == ["down", "up"]
    _, question_id, given_at, question, passages, status, _ = feedback[0]
    assert question_id == log_id and question == ANSWER["question"] and status == "answered"
    assert json.loads(passages)[0]["highlight"] == "chez la souris"
    assert "T" in given_at and given_at.endswith("+00:00")


def test_stores_nothing_personal(tmp_path: Path):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    store.record_feedback(store.log_question(ANSWER), ANSWER, "up")
    with sqlite3.connect(path) as conn:
        columns = {c[1] for t in ("questions", "feedback") for c in conn.execute(f"PRAGMA table_info({t})")}
    assert columns == {
        "id",
        "asked_at",
        "question",
        "status",
        "passages",
        "context",  # the earlier question a follow-up was read after: the visitor's words, not who
        "question_id",
        "given_at",
        "verdict",
    }
    assert "long texte" not in path.read_bytes().decode("utf-8", "ignore")  # passages by reference


def test_filter_by_status_newest_first(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.log_question(other("smalltalk", "Bonjour"))
    store.log_question(ANSWER)
    store.log_question(other("no_answer", "Quelle est la hauteur de la tour Eiffel ?"))
    assert [r.question for r in store.questions()][0].startswith("Quelle est la hauteur")
    assert [r.status for r in store.questions("no_answer")] == ["no_answer"]
    assert store.questions("invalid") == []


def test_rejects_unknown_verdict(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    with pytest.raises(ValueError, match="verdict inconnu"):
        store.record_feedback(None, ANSWER, "maybe")


def test_acknowledged_rows_survive_reopening(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path)
    log_id = store.log_question(ANSWER)
    assert store.record_feedback(log_id, ANSWER, "up")
    del store
    assert [r.feedback for r in FeedbackStore(path).questions()] == ["up"]
    assert len(rows_in(path, "feedback")) == 1  # visible to a plain, separate connection


def test_concurrent_writers_lose_nothing(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    second = FeedbackStore(tmp_path / "f.sqlite3")  # another process's view of the same file
    ids: list[int | None] = []

    def write(target: FeedbackStore) -> None:
        for _ in range(25):
            log_id = target.log_question(ANSWER)
            ids.append(log_id)
            assert target.record_feedback(log_id, ANSWER, "up")

    threads = [threading.Thread(target=write, args=(s,)) for s in (store, second) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert None not in ids and len(set(ids)) == 150
    assert len(store.questions(limit=1000)) == 150 and store.feedback_count() == 150


def test_unusable_location_disables_without_raising(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = FeedbackStore(blocker / "feedback.sqlite3")
    assert not store.available and store.problem
    assert store.log_question(ANSWER) is None
    assert store.record_feedback(None, ANSWER, "up") is False
    assert store.questions() == [] and store.feedback_count() == 0


def test_not_a_database_disables_without_raising(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    store = FeedbackStore(path)
    assert not store.available
    assert store.log_question(ANSWER) is None


def test_locked_database_fails_softly_then_recovers(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path, timeout=0.2)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert store.log_question(ANSWER) is None
        assert store.record_feedback(None, ANSWER, "up") is False
        assert not store.available and "locked" in (store.problem or "")
    finally:
        blocker.rollback()
        blocker.close()
    assert isinstance(store.log_question(ANSWER), int)
    assert store.available
    assert len(rows_in(path, "questions")) == 1  # the refused writes left nothing half-done


def _drop_file_capabilities() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


READ_ONLY_PROBE = """
import json, sys
from pathlib import Path
from qa.web.feedback import FeedbackStore
store = FeedbackStore(Path(sys.argv[1]), timeout=0.2)
print(json.dumps({"available": store.available, "log": store.log_question({"question": "q",
    "status": "answered", "passages": []}), "vote": store.record_feedback(None, {}, "up"),
    "rows": len(store.questions())}))
"""


def test_read_only_database_disables_without_raising():
    folder = Path(tempfile.mkdtemp(prefix="qa-ro-"))
    path = folder / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert store.log_question(ANSWER)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root ignores file modes: probe without the capabilities for that
            probe = subprocess.run(
                [sys.executable, "-c", READ_ONLY_PROBE, str(path)],
                capture_output=True,
                text=True,
                preexec_fn=_drop_file_capabilities,
                timeout=60,
                check=False,
            )
            assert probe.returncode == 0, probe.stderr
            result = json.loads(probe.stdout)
        else:
            ro = FeedbackStore(path, timeout=0.2)
            result = {
                "available": ro.available,
                "log": ro.log_question(ANSWER),
                "vote": ro.record_feedback(None, ANSWER, "up"),
                "rows": len(ro.questions()),
            }
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert result["available"] is False
    assert result["log"] is None and result["vote"] is False


def test_a_follow_up_is_logged_with_its_context(tmp_path: Path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.log_question(ANSWER | {"context": {"from": "Qu'est-ce que la ferroptose ?"}})
    store.log_question(ANSWER)
    follow_up, alone = sorted(store.questions(), key=lambda r: r.id)
    assert follow_up.context == "Qu'est-ce que la ferroptose ?" and alone.context is None


def test_a_file_of_the_first_schema_is_upgraded_in_place(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL,"
            " question TEXT NOT NULL, status TEXT NOT NULL, passages TEXT NOT NULL);"
            "INSERT INTO questions (asked_at, question, status, passages)"
            " VALUES ('2026-11-30T10:00:00+00:00', 'Ancienne question ?', 'answered', '[]');"
            "PRAGMA user_version=1;"
        )
    store = FeedbackStore(path)
    assert store.available
    [old] = store.questions()
    assert old.question == "Ancienne question ?" and old.context is None  # kept, context unknown
    store.log_question(ANSWER | {"context": {"from": "Avant ?"}})
    assert store.questions()[0].context == "Avant ?"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


# --- a full disk ----------------------------------------------------------------------------------


BIG = {"question": "q" * 6000, "status": "answered", "passages": []}  # a row needs new pages


@contextmanager
def disk_full_for_sqlite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every new SQLite connection may not grow its file: SQLite's own SQLITE_FULL path."""
    real = sqlite3.connect

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        return conn

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        yield


def test_full_disk_feedback_loses_no_acknowledged_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    acknowledged = [store.log_question(BIG) for _ in range(3)]
    votes = [store.record_feedback(i, BIG, "up") for i in acknowledged]
    with disk_full_for_sqlite(monkeypatch):
        assert store.log_question(BIG) is None
        assert store.record_feedback(acknowledged[0], BIG, "down") is False
        assert not store.available and "full" in (store.problem or "")
    assert all(isinstance(i, int) for i in acknowledged) and all(votes)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT id FROM questions ORDER BY id").fetchall() == [(i,) for i in acknowledged]
        assert [r[0] for r in conn.execute("SELECT verdict FROM feedback")] == ["up"] * 3
    assert isinstance(store.log_question(BIG), int) and store.available  # space back: resumes


def test_really_full_disk_feedback(small_disk: Path):
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    acknowledged = [store.log_question(BIG) for _ in range(5)]
    assert all(isinstance(i, int) for i in acknowledged)
    filler = fill(small_disk)
    outcomes = [store.log_question(BIG) for _ in range(20)]
    refused = [o for o in outcomes if o is None]
    acknowledged += [o for o in outcomes if o is not None]
    assert refused and not store.available
    filler.unlink()
    reopened = FeedbackStore(small_disk / "feedback.sqlite3")
    assert sorted(r.id for r in reopened.questions()) == sorted(acknowledged)
    assert reopened.available


def test_full_disk_turns_feedback_off_with_a_visible_note(
    seed_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with live(seed_engine, tmp_path) as url:
        respond = event_id(url, "respond")
        with disk_full_for_sqlite(monkeypatch):
            # an overlong question is refused, and logged: the row needs pages the disk lacks
            messages = gradio_events(url, [respond_body(respond, json.dumps("q" * 6000), "f1")], "f1")
            health = httpx.get(url + "healthz").json()
            small_talk = httpx.post(url + "api/ask", json={"question": "Bonjour"}).json()
    [done] = [m for m in messages if m["msg"] == "process_completed"]
    assert "trop longue" in json.dumps(done["output"], ensure_ascii=False)
    assert "Retours désactivés" in json.dumps(done["output"], ensure_ascii=False)  # the page note
    assert health["feedback"] is False
    assert small_talk["status"] == "smalltalk"  # still answering
