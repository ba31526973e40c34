"""Checking and cleaning a question before anything else sees it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFAULT_MAX_CHARS = 500
# Bidirectional overrides and isolates, zero-width characters: invisible, and used to disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class CheckedQuestion:
    """A cleaned question, or the French reason it cannot be answered."""

    text: str
    problem: str | None = None


def check_question(raw: object, max_chars: int = DEFAULT_MAX_CHARS) -> CheckedQuestion:
    """Normalise ``raw`` (NFC, control and invisible characters removed, spaces folded) or say why not."""
    if not isinstance(raw, str):
        return CheckedQuestion(text="", problem="La question doit être un texte.")
    if _SURROGATE.search(raw):
        return CheckedQuestion(
            text="", problem="La question contient des caractères invalides ; retapez-la, s'il vous plaît."
        )
    text = unicodedata.normalize("NFC", raw)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        return CheckedQuestion(
            text="", problem="Votre question est vide : écrivez quelques mots sur l'article."
        )
    if len(text) > max_chars:
        return CheckedQuestion(
            text="",
            problem=f"Votre question est trop longue ({len(text)} caractères) : "
            f"{max_chars} au plus, s'il vous plaît.",
        )
    if not any(c.isalnum() for c in text):
        return CheckedQuestion(
            text="", problem="Votre question ne contient aucun mot : écrivez-la en toutes lettres."
        )
    return CheckedQuestion(text=text)
