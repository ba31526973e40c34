"""Bounds on the earlier questions a client sends with a question (the chat: :mod:`qa.web.gradio.chat`).

A conversation travels with each request (the server keeps nothing between questions), so its
size is the client's choice: these functions cut it to a fixed size before anything stores it.

- :func:`bound_history`: the previous questions of ``POST /api/ask`` and Gradio ``/ask``.
- :func:`parse_history`: the same, from untrusted JSON (wrong types: a 422 :class:`Refusal`).

How many are kept is what the engine reads (``Tuning.conversation.max_turns``, served by
:attr:`qa.web.service.Assistant.max_history`); the library's default when none is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.settings import ConversationTuning
from qa.validation import DEFAULT_MAX_CHARS
from qa.web.errors import Refusal

DEFAULT_TURNS = ConversationTuning().max_turns  # the library's default number of earlier questions
NOT_QUESTIONS = (
    "Le champ « history » doit être une liste de questions "
    '(des chaînes de caractères), par exemple ["Qui a écrit l\'article ?"].'
)


def bound_history(
    history: Sequence[str], max_items: int = DEFAULT_TURNS, max_chars: int = DEFAULT_MAX_CHARS
) -> list[str]:
    """Return the last ``max_items`` questions of ``history`` (oldest first), each cut to ``max_chars``."""
    if max_items <= 0:
        return []
    return [item[:max_chars] for item in list(history[-max_items:])]


def parse_history(
    value: object, max_items: int = DEFAULT_TURNS, max_chars: int = DEFAULT_MAX_CHARS
) -> list[str]:
    """Check an untrusted ``history`` (``None`` or a list of strings) and bound it.

    Raises:
        Refusal: 422 when ``value`` is not a list or holds anything but strings.

    """
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Refusal(422, NOT_QUESTIONS)
    return bound_history(value, max_items, max_chars)
