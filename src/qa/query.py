"""A question as the answer path reads it: built once by the engine, read by every stage.

The engine (:meth:`qa.engine.Engine.query`) encodes the question and reads its words once; the
ranking, the citations and the decision take the :class:`Query` instead of a row of arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qa.lexical import QueryTerm


@dataclass(frozen=True, kw_only=True, eq=False)
class Query:
    """One question, encoded and analysed.

    A follow-up ("Et chez quel animal ?") is searched after its conversation's topic but judged
    and highlighted on what it asks itself: ``searched`` is the text encoded and searched (the
    question, or it after its topic), ``terms`` that text's words, ``own`` the question's.
    """

    text: str  # the question as asked (checked and cleaned)
    searched: str  # the text encoded into ``vector`` and searched by BM25
    vector: np.ndarray
    terms: tuple[QueryTerm, ...]
    own: tuple[QueryTerm, ...]
    fields: tuple[str, ...] = ()  # the article's fields asked for (qa.metadata.asked_fields)
    metadata: bool = False  # metadata passages compete: fields asked, or a name only the metadata holds
    scope: int | None = None  # the only article searched (its number), or None: every article

    @property
    def asked(self) -> tuple[QueryTerm, ...]:
        """The words the highlight and the decision weigh: the question's own, else the searched text's."""
        return self.own or self.terms

    @property
    def follow_up(self) -> bool:
        """Whether the question was searched after its topic and has words of its own."""
        return self.searched != self.text and bool(self.own)

    def with_vector(self, vector: np.ndarray) -> Query:
        """The same question encoded as ``vector`` (the exact encoder's, :mod:`qa.engine`)."""
        return replace(self, vector=vector)
