"""The page's chat as Gradio's ``Chatbot`` sends it back with each event, cut to a fixed size.

The chat travels with each question (the server keeps nothing between them), in Gradio's
"messages" format: ``{"role": "user"|"assistant", "content": str | [{"type": "text", "text"}…]}``.
:func:`bound_chat` keeps its last messages, text only, before Gradio stores them in the session.
"""

from __future__ import annotations

from qa.web.errors import Refusal

MAX_CHAT_MESSAGES = 40  # chat messages kept (20 questions and their answers)
MAX_MESSAGE_CHARS = 16_000  # characters of one chat message (an answer's HTML is 1-5 KB)
MAX_MESSAGE_PARTS = 4  # text parts of one chat message
MAX_CHAT_CHARS = 100_000  # characters of all the chat's messages together (20 answers of 5 KB)
ROLES = ("user", "assistant")
NOT_TEXT = "Conversation invalide : le contenu d'un message doit être du texte."


def bound_chat(
    value: object,
    max_messages: int = MAX_CHAT_MESSAGES,
    max_chars: int = MAX_MESSAGE_CHARS,
    max_total: int = MAX_CHAT_CHARS,
) -> list[dict]:
    """Return the last messages of a chat, rebuilt as ``{"role", "content": [text parts]}``.

    At most ``max_messages`` messages, each cut to ``max_chars`` characters, and no more
    messages than fit in ``max_total`` characters (the newest are kept). Anything but text
    (files, components, metadata, options) is dropped, so that nothing else is read or stored.

    Raises:
        Refusal: 422 when ``value`` is not a list of messages with a known role and text content.

    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refusal(422, "Conversation invalide : une liste de messages est attendue.")
    kept: list[dict] = []
    room = max_total
    for item in reversed(value[-max_messages:] if max_messages > 0 else []):
        message = _message(item, max_chars)
        room -= _length(message)
        if room < 0:
            break
        kept.append(message)
    return kept[::-1]


def _length(message: dict) -> int:
    return sum(len(part["text"]) for part in message["content"])


def _message(item: object, max_chars: int) -> dict:
    if not isinstance(item, dict) or item.get("role") not in ROLES:
        raise Refusal(
            422, "Conversation invalide : chaque message doit avoir un rôle (« user » ou « assistant »)."
        )
    content = item.get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise Refusal(422, NOT_TEXT)
    parts, room = [], max_chars
    for part in content[:MAX_MESSAGE_PARTS]:
        if (
            not isinstance(part, dict)
            or part.get("type", "text") != "text"
            or not isinstance(part.get("text"), str)
        ):
            raise Refusal(422, NOT_TEXT)
        parts.append({"type": "text", "text": part["text"][:room]})
        room = max(room - len(parts[-1]["text"]), 0)
    return {"role": item["role"], "content": parts}
