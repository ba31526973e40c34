"""The one object the web layer talks to: the engine, plus the question log and feedback store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from qa.answer import Answer
from qa.article import Article
from qa.settings import Settings
from qa.web.config import DEFAULT_CONCURRENCY, DEFAULT_QUEUE_SIZE, DEFAULT_REQUEST_TIMEOUT
from qa.web.feedback import FeedbackStore
from qa.web.limits import Gate

FEEDBACK_OFF = "Retours désactivés : le journal des questions ne peut pas être enregistré."


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


class Assistant:
    """Asks the engine (thread-safe), logs each public question, records feedback."""

    def __init__(self, engine: Engine, store: FeedbackStore | None, gate: Gate | None = None) -> None:
        """Serve ``engine``; ``store`` may be ``None`` (no log, feedback disabled).

        ``gate`` bounds the calls made through :meth:`ask_async` (the API endpoints).
        """
        self.engine = engine
        self.store = store
        self.gate = gate or Gate(DEFAULT_CONCURRENCY, DEFAULT_QUEUE_SIZE, DEFAULT_REQUEST_TIMEOUT)

    @property
    def articles(self) -> dict[str, Article]:
        """The engine's articles by id, in order."""
        return {article.id: article for article in self.engine.articles}

    @property
    def feedback_enabled(self) -> bool:
        """Whether votes and the log can currently be written."""
        return self.store is not None and self.store.available

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
        """Return the engine's health plus whether feedback is stored."""
        return {**self.engine.health(), "feedback": self.feedback_enabled}
