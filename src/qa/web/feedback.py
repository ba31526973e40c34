"""The question log, the readers' feedback and the editors' verifications, in one database.

Each question asked in the public chat or through the API is logged with its status and cited
passages; a thumbs up or down adds a feedback row that repeats the question, the passages and the
status, so that a verdict stands on its own even if the log is trimmed. Nothing about the person
asking is stored: no address, no browser, no session.

One implementation over two engines, with SQLAlchemy Core 2 (no ORM): a SQLite file
(``sqlite:///path``, the default) or PostgreSQL (``postgresql+psycopg://…``, psycopg 3), for
several processes or hosts sharing one log. Every write is its own transaction, committed before
the method returns ``True`` (or a row id): callers acknowledge a verdict only after that. SQLite
keeps WAL journaling (the staff view reads while the chat writes), ``synchronous=FULL`` and a
busy timeout that waits out short locks, on a fresh connection for each transaction as before;
PostgreSQL has a pool whose connections are pinged before use (a restarted server kills them)
and a 2-second connect timeout.

The schema (:mod:`qa.web.schema`) is versioned (a row of ``meta``, and SQLite's
``PRAGMA user_version`` too) and upgrades itself when the store first writes: a SQLite file of any
earlier version keeps its rows; a PostgreSQL database is created at the latest version, under an
advisory lock so that two processes starting at once do not race.

When the database cannot be written (read-only file, locked too long, unusable folder, server
down) the store says so through :attr:`FeedbackStore.problem` instead of raising, and the app
keeps answering. After a failure to reach a server, the store does not try again for
:data:`RETRY_SECONDS` (questions are not kept waiting on a connect timeout each); it writes again,
and :attr:`FeedbackStore.available` turns ``True``, at the first success after that.
:meth:`FeedbackStore.check` sees a server go down or come back even when nobody writes.

The editors' verifications (:mod:`qa.web.verifications`) share the database, its connections and
its durability: their two tables are part of this schema, and nothing in them is updated or
deleted (triggers refuse it, on both engines).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool

from qa.web.schema import FEEDBACK, QUESTIONS, migrate, put

T = TypeVar("T")
MAX_ROW_ID = 2**63 - 1  # the largest id of both engines (SQLite's INTEGER, PostgreSQL's BIGINT)
VERDICTS = ("up", "down", "none")  # "none": a vote taken back (a second click on the same thumb)
CONNECT_TIMEOUT = 2  # seconds to reach a PostgreSQL server before giving up
RETRY_SECONDS = 1.0  # after failing to reach a server: answer "not stored" at once for this long
CHECK_SECONDS = 1.0  # FeedbackStore.check asks the server at most this often
STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, sqlite3.Error)


def database_url(url: str | Path) -> URL:
    """The SQLAlchemy URL of ``url``: a path is a SQLite file; ``postgresql://`` is read with psycopg 3.

    Raises:
        ValueError: for a URL that is not one.

    """
    try:
        parsed = make_url(f"sqlite:///{url}" if isinstance(url, Path) else url)
    except ArgumentError as error:
        raise ValueError(f"adresse de base de données invalide : {error}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


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
    """The question log and feedback over SQLite or PostgreSQL; never raises on a write it cannot make.

    :meth:`write` and :meth:`read` are the one way in: :mod:`qa.web.verifications` uses them too.
    """

    def __init__(self, url: str | Path, timeout: float = 5.0) -> None:
        """Open the store at ``url``, creating or upgrading its schema now if the database answers.

        Args:
            url: a database URL (``sqlite:///path``, ``postgresql+psycopg://user:pass@host:port/db``)
                or a :class:`~pathlib.Path`: that SQLite file (its folder is created if needed).
            timeout: seconds to wait for a lock held by another writer before giving up.

        Raises:
            ValueError: for a URL that is not one (a configuration mistake, not a database down).

        """
        self.url: URL = database_url(url)
        self.path = Path(self.url.database) if self.sqlite and self.url.database else None
        self.timeout = timeout
        self.problem: str | None = None
        self._lock = threading.Lock()  # SQLite: one writer of this process at a time
        self._checking = threading.Lock()  # one check() at a time
        self._probing = threading.Lock()  # one attempt at a time to reach a server that was down
        self._unreachable = False  # whether the last attempt failed to reach the server
        self._ready = False  # whether the schema was checked (created, upgraded) since opening
        self._resting_until = 0.0  # time.monotonic() before which a down server is not tried again
        self._checked = 0.0  # time.monotonic() of the last check()
        self.engine: Engine | None = None
        try:
            self.engine = self._engine()
        except STORE_ERRORS as error:
            self._fail(error)
            return
        self.write(lambda conn: None)  # the schema now; a read-only file is found out now, not at a vote

    @property
    def sqlite(self) -> bool:
        """Whether the database is a SQLite file (else a server: PostgreSQL)."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def shown_url(self) -> str:
        """The database's URL without its password, for logs."""
        return self.url.render_as_string(hide_password=True)

    @property
    def available(self) -> bool:
        """Whether the last attempt to write (or :meth:`check`) succeeded."""
        return self.problem is None

    def _engine(self) -> Engine:
        """The SQLAlchemy engine: fresh connections with WAL for SQLite, a pinged pool for a server."""
        if not self.sqlite:
            return create_engine(
                self.url,
                pool_pre_ping=True,
                pool_timeout=self.timeout,
                connect_args={"connect_timeout": CONNECT_TIMEOUT},
            )
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # module: the standard sqlite3 itself (SQLAlchemy would take sqlite3.dbapi2), whose connect
        # the tests replace to fill the disk. NullPool: a fresh connection a transaction, as before.
        engine = create_engine(
            self.url, module=sqlite3, poolclass=NullPool, connect_args={"timeout": self.timeout}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def close(self) -> None:
        """Close the pool's connections (a new write opens new ones)."""
        if self.engine is not None:
            self.engine.dispose()

    def _fail(self, error: BaseException) -> None:
        """Say what went wrong (one short line); a server that cannot be reached is left alone a moment."""
        unreachable = isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError)
        if not self.sqlite and unreachable:
            self._unreachable = True
            self._resting_until = time.monotonic() + RETRY_SECONDS
        if isinstance(error, DBAPIError) and error.orig is not None:
            error = error.orig
        detail = " ".join(str(error).split())[:200]
        self.problem = f"{type(error).__name__}: {detail}" if detail else type(error).__name__

    def _succeed(self) -> None:
        self.problem = None
        self._unreachable = False
        self._resting_until = 0.0

    def _resting(self) -> bool:
        """Whether a server that could not be reached a moment ago is left alone for now."""
        return self.engine is None or time.monotonic() < self._resting_until

    @contextmanager
    def _turn(self) -> Iterator[bool]:
        """Whether to try the database now: not while resting, nor while another thread finds out.

        While a server is unreachable, one thread at a time tries it (each attempt may take the
        connect timeout); the others answer "not stored" at once.
        """
        if self._resting():
            yield False
        elif self.sqlite or not self._unreachable:
            yield True
        elif self._probing.acquire(blocking=False):
            try:
                yield True
            finally:
                self._probing.release()
        else:
            yield False

    def _prepare(self) -> None:
        """Create or upgrade the schema, once (again after a failure)."""
        if not self._ready:
            with self.engine.begin() as conn:
                migrate(conn)
                put(conn, "opened_at", now())  # a real write: a read-only database is found out at once
            self._ready = True

    def write(self, work: Callable[[Connection], T]) -> T | None:
        """Run ``work`` in its own transaction, committed before this returns its result.

        ``None`` (and :attr:`problem` set) when the database cannot be written: nothing of
        ``work`` is kept then.
        """
        with self._turn() as trying:
            if not trying:
                return None
            try:
                with self._lock if self.sqlite else nullcontext():
                    self._prepare()
                    with self.engine.begin() as conn:
                        result = work(conn)
            except STORE_ERRORS as error:
                self._fail(error)
                return None
            self._succeed()
            return result

    def read(self, work: Callable[[Connection], T], default: T) -> T:
        """Run ``work`` on a connection; ``default`` when the database cannot be read."""
        with self._turn() as trying:
            if not trying:
                return default
            try:
                self._prepare()
            except STORE_ERRORS as error:  # a read-only file may still be read
                self._fail(error)
                if not self.sqlite:
                    return default
            try:
                with self.engine.connect() as conn:
                    result = work(conn)
            except STORE_ERRORS as error:
                if not self.sqlite:  # a server that cannot be read is down: say so
                    self._fail(error)
                return default
            if self._unreachable:  # the server is back
                self._succeed()
            return result

    def check(self) -> bool:
        """Whether the log can be written now: :attr:`available`, asking a server at most once a second.

        A server is asked with ``SELECT 1`` (and the schema made, if it could not be at start-up):
        stopping it turns :attr:`available` ``False``, restarting it ``True``, even when nobody
        writes. A SQLite file is not asked: its last write tells.
        """
        if self.sqlite or self.engine is None:
            return self.available
        if time.monotonic() - self._checked < CHECK_SECONDS or not self._checking.acquire(blocking=False):
            return self.available
        try:
            self._checked = time.monotonic()
            self.write(lambda conn: conn.execute(select(1)).scalar())
        finally:
            self._checked = time.monotonic()
            self._checking.release()
        return self.available

    def log_question(self, answer: dict) -> int | None:
        """Log an answer (``Answer.to_dict()``) and its context; its row id, ``None`` if not stored."""
        context = answer.get("context")
        row = {
            "asked_at": now(),
            "question": answer.get("question", ""),
            "status": answer.get("status", ""),
            "passages": json.dumps(cited_passages(answer), ensure_ascii=False),
            "context": context.get("from") if isinstance(context, dict) else None,
        }
        return self.write(_insert(QUESTIONS, row))

    def record_feedback(self, question_id: int | None, answer: dict, verdict: str) -> bool:
        """Store a verdict (``"up"``, ``"down"``, or ``"none"`` to take one back); ``True`` once committed.

        Every verdict is a new row: taking a vote back keeps the earlier one in the history.

        Raises:
            ValueError: for a verdict other than these.

        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict inconnu : {verdict!r} (attendu : up, down ou none)")
        row = {
            "question_id": question_id,
            "given_at": now(),
            "question": answer.get("question", ""),
            "passages": json.dumps(cited_passages(answer), ensure_ascii=False),
            "status": answer.get("status", ""),
            "verdict": verdict,
        }
        return self.write(_insert(FEEDBACK, row)) is not None

    def questions(self, status: str | None = None, limit: int = 1000) -> list[LoggedQuestion]:
        """List the latest logged questions, newest first, optionally of one ``status`` only.

        Returns an empty list when the database cannot be read.
        """
        where = QUESTIONS.c.status == status if status else None
        return self.read(lambda conn: _logged(conn, where, limit), [])

    def question(self, log_id: int) -> LoggedQuestion | None:
        """The logged question with this row id (``None`` if there is none, or unreadable)."""
        if not 0 < log_id <= MAX_ROW_ID:
            return None
        found = self.read(lambda conn: _logged(conn, QUESTIONS.c.id == log_id, 1), [])
        return found[0] if found else None

    def feedback_count(self) -> int:
        """How many verdicts are stored (0 when the database cannot be read)."""
        count = select(func.count()).select_from(FEEDBACK)
        return self.read(lambda conn: int(conn.execute(count).scalar_one()), 0)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Each new SQLite connection: WAL journaling (kept in the file) and full syncs at each commit."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=FULL")


def _insert(table: Table, row: dict) -> Callable[[Connection], int]:
    """The work of inserting ``row`` into ``table``: it returns the new row's id."""
    return lambda conn: int(conn.execute(insert(table).values(row).returning(table.c.id)).scalar_one())


def _logged(conn: Connection, where: object, limit: int) -> list[LoggedQuestion]:
    """The log rows that match ``where`` (all if ``None``), newest first, with their latest verdict."""
    q, f = QUESTIONS.c, FEEDBACK.c
    latest = select(f.verdict).where(f.question_id == q.id).order_by(f.id.desc()).limit(1).scalar_subquery()
    query = select(q.id, q.asked_at, q.question, q.status, latest, q.passages, q.context)
    if where is not None:
        query = query.where(where)
    return [
        LoggedQuestion(r[0], r[1], r[2], r[3], None if r[4] == "none" else r[4], json.loads(r[5]), r[6])
        for r in conn.execute(query.order_by(q.id.desc()).limit(limit))
    ]
