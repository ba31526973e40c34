"""The editors' verifications in the question log's database: added, withdrawn, listed, never changed.

A verification (:class:`qa.verified.Verification`) is one row of ``verifications``; withdrawing
it adds one row to ``verification_withdrawals`` (at most one a verification). Nothing is updated
or deleted (the schema's triggers refuse it, on SQLite and PostgreSQL): the database keeps who
verified what and when, and who withdrew it. The tables belong to the store's schema
(:mod:`qa.web.feedback`, version 4), and the store's durability applies: each write is its own
transaction, committed before the method returns; a write that cannot be made returns ``None``
or :attr:`Withdrawal.FAILED` and sets :attr:`qa.web.feedback.FeedbackStore.problem`, never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Connection, Row, func, insert, select
from sqlalchemy.exc import IntegrityError

from qa.article import Article, Span
from qa.verified import Verification
from qa.web.feedback import MAX_ROW_ID, FeedbackStore, now
from qa.web.schema import VERIFICATIONS, WITHDRAWALS

MAX_AUTHOR_CHARS = 100  # an editor's name as stored (the Basic-auth user name, or "staff")
V, W = VERIFICATIONS.c, WITHDRAWALS.c
SELECT = select(
    V.id,
    V.created_at,
    V.author,
    V.question,
    V.context,
    V.article,
    V.start,
    V.end,
    V.highlight_start,
    V.highlight_end,
    V.verdict,
    V.checksum,
    W.withdrawn_at,
    W.author,
).select_from(VERIFICATIONS.outerjoin(WITHDRAWALS, W.verification_id == V.id))
VERSION = select(
    select(func.coalesce(func.max(V.id), 0)).scalar_subquery(),
    select(func.coalesce(func.max(W.id), 0)).scalar_subquery(),
)


class Withdrawal(Enum):
    """What became of a request to withdraw a verification."""

    DONE = "done"  # withdrawn now
    UNKNOWN = "unknown"  # no verification has this id
    ALREADY = "already"  # it was withdrawn before
    FAILED = "failed"  # the database could not be written (see FeedbackStore.problem)


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
    """The verifications' tables of a :class:`FeedbackStore`'s database, through its ``write``/``read``."""

    def __init__(self, store: FeedbackStore) -> None:
        """Keep the verifications in ``store``'s database."""
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
        (start, end), (h_start, h_end) = _ends(passage), _ends(highlight if passage else None)
        row = {
            "created_at": at,
            "author": by,
            "question": question,
            "context": context,
            "article": ident,
            "start": start,
            "end": end,
            "highlight_start": h_start,
            "highlight_end": h_end,
            "verdict": verdict,
            "checksum": checksum,
        }
        statement = insert(VERIFICATIONS).values(row).returning(V.id)
        new_id = self.store.write(lambda conn: int(conn.execute(statement).scalar_one()))
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
        row = {"verification_id": verification_id, "withdrawn_at": now(), "author": _author(author)}

        def work(conn: Connection) -> Withdrawal:
            if conn.execute(select(V.id).where(V.id == verification_id)).first() is None:
                return Withdrawal.UNKNOWN
            try:
                conn.execute(insert(WITHDRAWALS).values(row))
            except IntegrityError:  # one withdrawal a verification (UNIQUE): another came first
                return Withdrawal.ALREADY  # nothing else was written: the commit keeps nothing
            return Withdrawal.DONE

        return self.store.write(work) or Withdrawal.FAILED

    def records(self) -> list[StoredVerification]:
        """Every verification, newest first, withdrawn ones with their withdrawal ([] if unreadable)."""
        return self.store.read(
            lambda conn: [_stored(r) for r in conn.execute(SELECT.order_by(V.id.desc()))], []
        )

    def get(self, verification_id: int) -> StoredVerification | None:
        """The verification with this id (``None`` if none, or unreadable)."""
        if not 0 < verification_id <= MAX_ROW_ID:
            return None
        rows = self.store.read(lambda conn: conn.execute(SELECT.where(V.id == verification_id)).all(), [])
        return _stored(rows[0]) if rows else None

    def version(self) -> tuple[int, int] | None:
        """The newest verification's and withdrawal's ids: any write changes them (``None`` if unreadable).

        One cheap query, so that a process sees another's writes without reading every row.
        """
        return self.store.read(lambda conn: tuple(conn.execute(VERSION).one()), None)


def _author(name: str) -> str:
    """An editor's name as stored: trimmed and cut, ``staff`` when there is none."""
    return (name.strip() or "staff")[:MAX_AUTHOR_CHARS]


def _ends(span: Span | None) -> tuple[int | None, int | None]:
    """A span's start and end as the table's two columns (``NULL``, ``NULL`` for none)."""
    return (span.start, span.end) if span else (None, None)


def _stored(row: Row | tuple) -> StoredVerification:
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
