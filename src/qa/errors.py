"""The errors the library raises on purpose: one family, each with its message in French for the user.

Each also derives from the built-in type callers caught before (``except KeyError`` still catches
an unknown article), so that the edges (the command line, the web layer) may catch :class:`QAError`
alone or keep what they had.
"""

from __future__ import annotations

from collections.abc import Iterable


class QAError(Exception):
    """Anything the library refuses to do; ``str(error)`` is the French message to show."""


class UnknownArticle(QAError, KeyError):
    """No loaded article has this id."""

    def __init__(self, article_id: str, known: Iterable[str] = ()) -> None:
        """``known``: the loaded articles' ids, listed in the message."""
        self.article_id = article_id
        self.known = tuple(known)
        listed = f" Articles : {', '.join(self.known)}." if self.known else ""
        self.message = f"Article inconnu : {article_id}.{listed}"
        super().__init__(self.message)

    def __str__(self) -> str:
        """The French message (a ``KeyError`` would show the quoted id alone)."""
        return self.message


class ArticleError(QAError, ValueError):
    """An article cannot be found, read or parsed; the message names the file."""


class ModelUnavailable(QAError, RuntimeError):
    """The embedding model cannot be found, converted or loaded."""


class IndexProblem(QAError):
    """The index cannot be used as it is; the message names the index and the cause."""
