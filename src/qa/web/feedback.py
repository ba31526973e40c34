"""The question log, the readers' feedback and the editors' verifications, kept in one SQLite file.

Each question asked in the public chat or through the API is logged with its status and cited
passages; a thumbs up or down adds a feedback row that repeats the question, the passages and the
status, so that a verdict stands on its own even if the log is trimmed. Nothing about the person
asking is stored: no address, no browser, no session.

Every write is its own transaction, committed before the method returns ``True`` (or a row id):
callers acknowledge a verdict only after that. WAL journaling lets the staff view read while the
chat writes; a busy timeout waits out short locks. When the file cannot be written (read-only,
locked too long, unusable folder) the store says so through :attr:`FeedbackStore.problem` instead
of raising, and the app keeps answering.

The editors' verifications (:mod:`qa.web.verifications`) share the file, its connections and its
durability: their two tables are part of this schema, and nothing in them is updated or deleted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
# 2: questions.context (a follow-up's earlier question); 3: verdict "none"; 4: verifications
SCHEMA_VERSION = 4
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer: no row has a larger id (nor a binding)
VERDICTS = ("up", "down", "none")  # "none": a vote taken back (a second click on the same thumb)
SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    status TEXT NOT NULL,
    passages TEXT NOT NULL,
    context TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER REFERENCES questions(id),
    given_at TEXT NOT NULL,
    question TEXT NOT NULL,
    passages TEXT NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down', 'none'))
);
CREATE INDEX IF NOT EXISTS questions_status ON questions(status);
CREATE INDEX IF NOT EXISTS feedback_question ON feedback(question_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    question TEXT NOT NULL,
    context TEXT,
    article TEXT,
    start INTEGER,
    "end" INTEGER,
    highlight_start INTEGER,
    highlight_end INTEGER,
    verdict TEXT NOT NULL CHECK (verdict IN ('passage', 'absent')),
    checksum TEXT,
    CHECK ((verdict = 'passage') = (article IS NOT NULL AND start IS NOT NULL AND "end" IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS verification_withdrawals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    verification_id INTEGER NOT NULL UNIQUE REFERENCES verifications(id),
    withdrawn_at TEXT NOT NULL,
    author TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS verifications_kept BEFORE UPDATE ON verifications
BEGIN SELECT RAISE(ABORT, 'verifications are never changed'); END;
CREATE TRIGGER IF NOT EXISTS verifications_not_deleted BEFORE DELETE ON verifications
BEGIN SELECT RAISE(ABORT, 'verifications are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS withdrawals_kept BEFORE UPDATE ON verification_withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are never changed'); END;
CREATE TRIGGER IF NOT EXISTS withdrawals_not_deleted BEFORE DELETE ON verification_withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are never deleted'); END;
"""


@dataclass(frozen=True)
class LoggedQuestion:
    """One row of the question log, with the latest verdict given on it (``None`` if none)."""

    id: int
    asked_at: str
    question: str
    status: str
    feedback: str | None  # the latest verdict, "up" or "down"; None without one or once taken back
    passages: list[dict]
    context: str | None = None  # the earlier question a follow-up was read after

    @property
    def cited_sentence(self) -> str:
        """The sentence the reply quoted as the answer (the first passage's highlight), ``""`` if none.

        Only an answered question quoted one: a declined reply showed no key sentence.
        """
        first = self.passages[0] if self.passages else {}
        if self.status != "answered" or not isinstance(first, dict):
            return ""
        return str(first.get("highlight") or "")


def now() -> str:
    """Return the current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def cited_passages(answer: dict) -> list[dict]:
    """Reduce a contract answer's passages to what identifies them (no full text)."""
    keys = ("rank", "article", "section", "start", "end", "highlight", "score")
    return [{key: passage.get(key) for key in keys} for passage in answer.get("passages", [])]


class FeedbackStore:
    """SQLite store for the question log and feedback; never raises on a write it cannot make.

    :meth:`write` and :meth:`read` are the one way in: :mod:`qa.web.verifications` uses them too.
    """

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        """Open (creating folder, file and tables if needed) the store at ``path``.

        Args:
            path: the SQLite file.
            timeout: seconds to wait for a lock held by another writer before giving up.

        """
        self.path = Path(path)
        self.timeout = timeout
        self.problem: str | None = None
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                _upgrade(conn)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                # A real write, so that a read-only file is found out now, not at the first vote.
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('opened_at', ?)", (now(),))
        except (OSError, sqlite3.Error) as error:
            self._fail(error)

    @property
    def available(self) -> bool:
        """Whether the last attempt to write succeeded."""
        return self.problem is None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Open a fresh connection whose transaction commits on success, rolls back on error."""
        with closing(sqlite3.connect(self.path, timeout=self.timeout)) as conn:
            conn.execute("PRAGMA synchronous=FULL")
            with conn:
                yield conn

    def _fail(self, error: Exception) -> None:
        self.problem = f"{type(error).__name__}: {error}"

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T | None:
        """Run ``work`` in its own transaction, committed before this returns its result.

        ``None`` (and :attr:`problem` set) when the file cannot be written: nothing of ``work``
        is kept then.
        """
        try:
            with self._lock, self._connection() as conn:
                result = work(conn)
        except (OSError, sqlite3.Error) as error:
            self._fail(error)
            return None
        self.problem = None
        return result

    def read(self, work: Callable[[sqlite3.Connection], T], default: T) -> T:
        """Run ``work`` on a fresh connection; ``default`` when the file cannot be read."""
        try:
            with self._connection() as conn:
                return work(conn)
        except (OSError, sqlite3.Error):
            return default

    def log_question(self, answer: dict) -> int | None:
        """Log an answer (``Answer.to_dict()``) and its context; its row id, ``None`` if not stored."""
        context = answer.get("context")
        row = (
            now(),
            answer.get("question", ""),
            answer.get("status", ""),
            json.dumps(cited_passages(answer), ensure_ascii=False),
            context.get("from") if isinstance(context, dict) else None,
        )
        sql = "INSERT INTO questions (asked_at, question, status, passages, context) VALUES (?,?,?,?,?)"
        return self.write(_insert(sql, row))

    def record_feedback(self, question_id: int | None, answer: dict, verdict: str) -> bool:
        """Store a verdict (``"up"``, ``"down"``, or ``"none"`` to take one back); ``True`` once committed.

        Every verdict is a new row: taking a vote back keeps the earlier one in the history.

        Raises:
            ValueError: for a verdict other than these.

        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict inconnu : {verdict!r} (attendu : up, down ou none)")
        row = (
            question_id,
            now(),
            answer.get("question", ""),
            json.dumps(cited_passages(answer), ensure_ascii=False),
            answer.get("status", ""),
            verdict,
        )
        sql = (
            "INSERT INTO feedback (question_id, given_at, question, passages, status, verdict)"
            " VALUES (?,?,?,?,?,?)"
        )
        return self.write(_insert(sql, row)) is not None

    def questions(self, status: str | None = None, limit: int = 1000) -> list[LoggedQuestion]:
        """List the latest logged questions, newest first, optionally of one ``status`` only.

        Returns an empty list when the file cannot be read.
        """
        return self.read(
            lambda conn: _logged(conn, "?1 IS NULL OR q.status = ?1", (status or None, limit)), []
        )

    def question(self, log_id: int) -> LoggedQuestion | None:
        """The logged question with this row id (``None`` if there is none, or the file cannot be read)."""
        if not 0 < log_id <= MAX_ROW_ID:
            return None
        found = self.read(lambda conn: _logged(conn, "q.id = ?1", (log_id, 1)), [])
        return found[0] if found else None

    def feedback_count(self) -> int:
        """How many verdicts are stored (0 when the file cannot be read)."""
        return self.read(lambda conn: int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]), 0)


def _insert(sql: str, row: tuple) -> Callable[[sqlite3.Connection], int]:
    """The work of inserting ``row`` with ``sql``: it returns the new row's id."""
    return lambda conn: int(conn.execute(sql, row).lastrowid or 0)


def _logged(conn: sqlite3.Connection, where: str, parameters: tuple) -> list[LoggedQuestion]:
    """The log rows that match ``where`` (``?2`` the limit), newest first, with their latest verdict."""
    query = (
        "SELECT q.id, q.asked_at, q.question, q.status,"
        " (SELECT f.verdict FROM feedback f WHERE f.question_id = q.id ORDER BY f.id DESC"
        "  LIMIT 1), q.passages, q.context"
        f" FROM questions q WHERE {where} ORDER BY q.id DESC LIMIT ?2"
    )
    return [
        LoggedQuestion(r[0], r[1], r[2], r[3], None if r[4] == "none" else r[4], json.loads(r[5]), r[6])
        for r in conn.execute(query, parameters).fetchall()
    ]


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a file of an earlier schema up to this one, in place (its rows kept)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(questions)")}
    if "context" not in columns:
        conn.execute("ALTER TABLE questions ADD COLUMN context TEXT")
    (table,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'feedback'").fetchone()
    if "'none'" not in table:  # SQLite cannot change a CHECK: the table is copied into the new one
        conn.execute("ALTER TABLE feedback RENAME TO feedback_v2")
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO feedback SELECT * FROM feedback_v2")
        conn.execute("DROP TABLE feedback_v2")  # and its index, made again on the new table:
        conn.executescript(SCHEMA)
