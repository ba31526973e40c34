"""The one object the web layer talks to: the engine, the question log and feedback, the verifications.

The editors' verifications live in the store's file (:mod:`qa.web.verifications`); the engine
answers from those in force (:meth:`Assistant.refresh`). Several processes may share the file:
before answering, each one checks, at most every :data:`REFRESH_SECONDS`, whether another has
added or withdrawn one since, with one cheap query, and reloads them if so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

from qa.answer import Answer
from qa.article import Article
from qa.settings import Settings
from qa.verified import Verification, VerifiedAnswers, check_verification
from qa.web.config import DEFAULT_CONCURRENCY, DEFAULT_QUEUE_SIZE, DEFAULT_REQUEST_TIMEOUT
from qa.web.feedback import FeedbackStore
from qa.web.gate import Gate
from qa.web.history import bound_history
from qa.web.verifications import StoredVerification, VerificationStore, Withdrawal

FEEDBACK_OFF = "Retours désactivés : le journal des questions ne peut pas être enregistré."
REFRESH_SECONDS = 2.0  # how stale another process's verifications may be, at most
NOTHING_STORED = (0, 0)  # the store's version (newest ids) with no verification and no withdrawal


class Engine(Protocol):
    """What the web layer needs from ``qa.engine.Engine``."""

    articles: list[Article]

    def ask(self, question: str, history: Sequence[str] = (), article: str | None = None) -> Answer:
        """Answer a question after ``history``, from ``article`` or all.

        Raises only :class:`qa.errors.UnknownArticle` (a ``KeyError``), for an unknown article.
        """

    def article_by_id(self, article_id: str) -> Article:
        """Return the article with this id (:class:`qa.errors.UnknownArticle` if none)."""

    def health(self) -> dict:
        """``index``, ``model`` and ``articles`` (a count)."""

    def context_of(self, question: str, history: Sequence[str] = ()) -> str | None:
        """The earlier question ``question`` is read after, ``None`` when it stands alone."""

    def use_verifications(self, verifications: Sequence[Verification]) -> VerifiedAnswers:
        """Answer from these verifications from now on; which of them are stale."""


class Limiter(Protocol):
    """What the health report reads of the rate limiter (:class:`qa.web.limits.RateLimiter`)."""

    @property
    def state(self) -> str:
        """``memory`` (each process counts alone), ``shared``, or ``fallback`` (shared store down)."""


class Assistant:
    """Asks the engine (thread-safe), logs each public question, records feedback and verifications."""

    def __init__(
        self,
        engine: Engine,
        store: FeedbackStore | None,
        gate: Gate | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        """Serve ``engine``; ``store`` may be ``None`` (no log, feedback and verifications disabled).

        ``gate`` bounds the calls made through :meth:`ask_async` (the API endpoints); ``limiter``
        is the rate limiter, whose state the health report gives. The verifications in force
        are loaded into the engine now.
        """
        self.engine = engine
        self.store = store
        self.gate = gate or Gate(DEFAULT_CONCURRENCY, DEFAULT_QUEUE_SIZE, DEFAULT_REQUEST_TIMEOUT)
        self.limiter = limiter
        self.verifications = VerificationStore(store) if store else None
        self._loaded = NOTHING_STORED  # the store's version the engine's verifications come from
        self._stale: frozenset[int] = frozenset()
        self._checked = 0.0  # time.monotonic() of the last look at the store's version
        self._reloading = threading.Lock()
        self.refresh(force=True)

    @property
    def articles(self) -> dict[str, Article]:
        """The engine's articles by id, in order."""
        return {article.id: article for article in self.engine.articles}

    @property
    def feedback_enabled(self) -> bool:
        """Whether votes and the log can currently be written (a server is asked at most once a second)."""
        return self.store is not None and self.store.check()

    @property
    def settings(self) -> Settings:
        """The engine's library settings (the defaults for an engine that has none)."""
        return getattr(self.engine, "settings", None) or Settings()

    @property
    def max_question_chars(self) -> int:
        """The engine's longest question (history items are cut to it)."""
        return self.settings.max_question_chars

    @property
    def max_history(self) -> int:
        """How many earlier questions the engine reads, and the web layer keeps."""
        return self.settings.tuning.conversation.max_turns

    def ask(
        self, question: object, history: Sequence[str] = (), article: str | None = None
    ) -> tuple[Answer, int | None]:
        """Answer and log a public question; return the answer and its log id (or ``None``).

        Raises:
            UnknownArticle: when ``article`` is not a loaded article's id.
        """
        answer = self._answer(question, history, article)
        log_id = self.store.log_question(answer.to_dict()) if self.store else None
        return answer, log_id

    async def ask_async(
        self, question: object, history: Sequence[str] = (), article: str | None = None
    ) -> tuple[Answer, int | None]:
        """:meth:`ask` in a worker thread, within the gate's limits.

        Raises:
            qa.web.errors.Refusal: when the gate refuses or the answer takes too long.
            UnknownArticle: when ``article`` is not a loaded article's id.

        """
        return await self.gate.run(self.ask, question, history, article)

    def diagnose(self, question: object, history: Sequence[str] = (), article: str | None = None) -> dict:
        """Answer with diagnostics, for staff, as a visitor asked it (after ``history``, in ``article``).

        Not logged.

        Raises:
            UnknownArticle: when ``article`` is not a loaded article's id.
        """
        return self._answer(question, history, article).to_dict(diagnostics=True)

    def _answer(self, question: object, history: Sequence[str] = (), article: str | None = None) -> Answer:
        self.refresh()
        text = question if isinstance(question, str) else ""
        if history or article is not None:
            return self.engine.ask(text, history, article)
        return self.engine.ask(text)

    def record_feedback(self, log_id: int | None, answer: dict, liked: bool | None) -> bool:
        """Store a thumbs up (``liked``), down, or ``None``: the vote taken back; ``True`` once committed."""
        if self.store is None:
            return False
        verdict = "none" if liked is None else "up" if liked else "down"
        return self.store.record_feedback(log_id, answer, verdict)

    def health(self) -> dict:
        """The engine's health, the log's and the rate limit's: ``status`` ``degraded`` when one is down.

        ``log``: ``ok`` or ``unavailable`` (questions are still answered, not logged): the store's
        :meth:`~qa.web.feedback.FeedbackStore.check`, so a database server that stops or comes back
        shows here even when nobody writes;
        ``rate_limits``: the limiter's :attr:`Limiter.state`. ``feedback`` is whether votes are stored.
        """
        enabled = self.feedback_enabled
        report = {**self.engine.health(), "feedback": enabled}
        report["log"] = "ok" if enabled else "unavailable"
        if self.limiter is not None:
            report["rate_limits"] = self.limiter.state
        degraded = report["log"] != "ok" or report.get("rate_limits") == "fallback"
        return {"status": "degraded" if degraded else "ok", **report}

    def replace_engine(self, engine: Engine) -> None:
        """Answer with ``engine`` from now on (a new index); the verifications in force go with it.

        Requests already running finish with the engine they started with.
        """
        with self._reloading:
            self._loaded = NOTHING_STORED  # the new engine has none yet: load them into it
        previous, self.engine = self.engine, engine
        try:
            self.refresh(force=True)
        except Exception:
            self.engine = previous
            raise

    # --- the editors' verifications ----------------------------------------------------------------

    @property
    def stale(self) -> frozenset[int]:
        """The ids of the verifications in force whose article changed since: they no longer serve."""
        return self._stale

    def refresh(self, force: bool = False) -> None:
        """Give the engine the verifications in force if the store changed since they were loaded.

        Looks at the store's version at most every :data:`REFRESH_SECONDS` (always with
        ``force``); an unreadable store leaves the engine's verifications as they were. One
        thread reloads; the others answer meanwhile with those already loaded.
        """
        if self.verifications is None or not (force or time.monotonic() - self._checked >= REFRESH_SECONDS):
            return
        with self._reloading:
            if not force and time.monotonic() - self._checked < REFRESH_SECONDS:
                return  # another thread looked while this one waited
            self._checked = time.monotonic()
            version = self.verifications.version()  # before the rows: a write in between shows next time
            if version is None or version == self._loaded:
                return
            records = self.verifications.records()
            if version[0] and not records:
                return  # the rows could not be read after all: keep those loaded, look again later
            loaded = self.engine.use_verifications([r.verification for r in records if r.in_force])
            self._stale = frozenset(v.id for v in loaded.stale)
            self._loaded = version

    def verify(
        self,
        question: object,
        history: Sequence[str] = (),
        *,
        author: str,
        article: object = None,
        start: object = None,
        end: object = None,
        highlight_start: object = None,
        highlight_end: object = None,
        verdict: object = None,
    ) -> StoredVerification | None:
        """Check and store an editor's verification, then answer from it; ``None`` if not stored.

        The question is read after ``history`` as the engine reads a visitor's: its context is the
        earlier question it follows, if it is a follow-up.

        Raises:
            qa.verified.VerificationError: with a French message, when any part is missing or wrong.

        """
        text, found, passage, highlight = check_verification(
            self.engine.articles,
            question,
            article,
            start,
            end,
            highlight_start,
            highlight_end,
            verdict,
            self.max_question_chars,
        )
        if self.verifications is None:
            return None
        stored = self.verifications.add(
            text, self.context_of(text, history), found, passage, highlight, author
        )
        if stored is not None:
            self.refresh(force=True)
        return stored

    def context_of(self, question: str, history: Sequence[str]) -> str | None:
        """The earlier question ``question`` is read after (``history`` bounded as a visitor's), if any."""
        earlier = bound_history(history, self.max_history, self.max_question_chars)
        return self.engine.context_of(question, earlier) if earlier else None

    def withdraw(self, verification_id: int, author: str) -> Withdrawal:
        """Withdraw a verification (it stops applying at once here, within seconds elsewhere)."""
        if self.verifications is None:
            return Withdrawal.FAILED
        outcome = self.verifications.withdraw(verification_id, author)
        if outcome in (Withdrawal.DONE, Withdrawal.ALREADY):  # already: maybe by another process
            self.refresh(force=True)
        return outcome

    def verification_records(self) -> list[StoredVerification]:
        """Every verification, newest first (withdrawn ones too); ``[]`` without a readable store."""
        return self.verifications.records() if self.verifications else []
