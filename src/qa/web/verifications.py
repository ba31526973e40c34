"""The editors' verifications in the question log's SQLite file: added, withdrawn, listed, never changed.

A verification (:class:`qa.verified.Verification`) is one row of ``verifications``; withdrawing
it adds one row to ``verification_withdrawals`` (at most one a verification). Nothing is updated
or deleted (the schema's triggers refuse it): the file keeps who verified what and when, and who
withdrew it. The tables belong to the store's schema (:mod:`qa.web.feedback`, version 4), and
the store's durability applies: each write is its own transaction, committed before the method
returns; a write that cannot be made returns ``None`` or :attr:`Withdrawal.FAILED` and sets
:attr:`qa.web.feedback.FeedbackStore.problem`, never raises.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import Enum

from qa.article import Article, Span
from qa.verified import Verification
from qa.web.feedback import MAX_ROW_ID, FeedbackStore, now

MAX_AUTHOR_CHARS = 100  # an editor's name as stored (the Basic-auth user name, or "staff")
COLUMNS = (
    'v.id, v.created_at, v.author, v.question, v.context, v.article, v.start, v."end",'
    " v.highlight_start, v.highlight_end, v.verdict, v.checksum, w.withdrawn_at, w.author"
)
SELECT = (
    f"SELECT {COLUMNS} FROM verifications v LEFT JOIN verification_withdrawals w ON w.verification_id = v.id"
)
INSERT = (
    "INSERT INTO verifications (created_at, author, question, context, article, start,"
    ' "end", highlight_start, highlight_end, verdict, checksum) VALUES (?,?,?,?,?,?,?,?,?,?,?)'
)
WITHDRAW = "INSERT INTO verification_withdrawals (verification_id, withdrawn_at, author) VALUES (?,?,?)"
VERSION = (
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM verifications),"
    " (SELECT COALESCE(MAX(id), 0) FROM verification_withdrawals)"
)


class Withdrawal(Enum):
    """What became of a request to withdraw a verification."""

    DONE = "done"  # withdrawn now
    UNKNOWN = "unknown"  # no verification has this id
    ALREADY = "already"  # it was withdrawn before
    FAILED = "failed"  # the file could not be written (see FeedbackStore.problem)


@dataclass(frozen=True)
class Withdrawn:
    """When a verification was withdrawn, and by whom."""

    at: str
    by: str


@dataclass(frozen=True)
class StoredVerification:
    """A verification as the store keeps it: the library's object, and its withdrawal if any."""

    verification: Verification
    withdrawn: Withdrawn | None = None

    @property
    def in_force(self) -> bool:
        """Whether it still applies (not withdrawn; its article may still have changed: stale)."""
        return self.withdrawn is None


class VerificationStore:
    """The verifications' tables of a :class:`FeedbackStore`'s file, through its ``write``/``read``."""

    def __init__(self, store: FeedbackStore) -> None:
        """Keep the verifications in ``store``'s file."""
        self.store = store

    def add(
        self,
        question: str,
        context: str | None,
        article: Article | None,
        passage: Span | None,
        highlight: Span | None,
        author: str,
    ) -> StoredVerification | None:
        """Store a checked verification (:func:`qa.verified.check_verification`); ``None`` if not stored.

        ``article`` and ``passage`` are both ``None`` for the verdict "absent"; the article's
        checksum is kept, so that a later change of its text makes the verification stale.
        """
        at, by = now(), _author(author)
        source = article if passage else None
        ident, checksum = (source.id, source.sha256) if source else (None, None)
        verdict = "passage" if passage else "absent"
        row = (
            at,
            by,
            question,
            context,
            ident,
            *_ends(passage),
            *_ends(highlight if passage else None),
            verdict,
            checksum,
        )
        new_id = self.store.write(lambda conn: int(conn.execute(INSERT, row).lastrowid or 0))
        if new_id is None:
            return None
        return StoredVerification(
            Verification(
                id=new_id,
                question=question,
                context=context,
                article=ident,
                passage=passage,
                highlight=highlight if passage else None,
                checksum=checksum,
                author=by,
                at=at,
            )
        )

    def withdraw(self, verification_id: int, author: str) -> Withdrawal:
        """Withdraw a verification: one more row, the verification itself kept as it was."""
        if not 0 < verification_id <= MAX_ROW_ID:
            return Withdrawal.UNKNOWN
        row = (verification_id, now(), _author(author))

        def work(conn: sqlite3.Connection) -> Withdrawal:
            if conn.execute("SELECT 1 FROM verifications WHERE id = ?", row[:1]).fetchone() is None:
                return Withdrawal.UNKNOWN
            try:
                conn.execute(WITHDRAW, row)
            except sqlite3.IntegrityError:  # one withdrawal a verification (UNIQUE): another came first
                return Withdrawal.ALREADY
            return Withdrawal.DONE

        return self.store.write(work) or Withdrawal.FAILED

    def records(self) -> list[StoredVerification]:
        """Every verification, newest first, withdrawn ones with their withdrawal ([] if unreadable)."""
        return self.store.read(
            lambda conn: [_stored(r) for r in conn.execute(f"{SELECT} ORDER BY v.id DESC")], []
        )

    def get(self, verification_id: int) -> StoredVerification | None:
        """The verification with this id (``None`` if none, or unreadable)."""
        if not 0 < verification_id <= MAX_ROW_ID:
            return None
        rows = self.store.read(
            lambda conn: conn.execute(f"{SELECT} WHERE v.id = ?", (verification_id,)).fetchall(), []
        )
        return _stored(rows[0]) if rows else None

    def version(self) -> tuple[int, int] | None:
        """The newest verification's and withdrawal's ids: any write changes them (``None`` if unreadable).

        One cheap query, so that a process sees another's writes without reading every row.
        """
        return self.store.read(lambda conn: tuple(conn.execute(VERSION).fetchone()), None)


def _author(name: str) -> str:
    """An editor's name as stored: trimmed and cut, ``staff`` when there is none."""
    return (name.strip() or "staff")[:MAX_AUTHOR_CHARS]


def _ends(span: Span | None) -> tuple[int | None, int | None]:
    """A span's start and end as the table's two columns (``NULL``, ``NULL`` for none)."""
    return (span.start, span.end) if span else (None, None)


def _stored(row: tuple) -> StoredVerification:
    """A row of :data:`SELECT` as a :class:`StoredVerification`."""
    (ident, at, author, question, context, article, start, end, h_start, h_end, verdict, checksum) = row[:12]
    passage = Span(start, end) if verdict == "passage" else None
    highlight = Span(h_start, h_end) if passage and h_start is not None and h_end is not None else None
    verification = Verification(
        id=ident,
        question=question,
        context=context,
        article=article if passage else None,
        passage=passage,
        highlight=highlight,
        checksum=checksum if passage else None,
        author=author,
        at=at,
    )
    withdrawn_at, withdrawn_by = row[12:]
    return StoredVerification(verification, Withdrawn(withdrawn_at, withdrawn_by) if withdrawn_at else None)
