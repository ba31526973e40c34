"""What the three formats share: the non-blank lines of a text, page residue, credit lines, headings."""

from __future__ import annotations

import re

HEADING_MAX_CHARS = 150
CREDIT_LINE = re.compile(r"\b(?:r[ée]dig[ée]|[ée]crit|sign[ée])\s+par\b|\bpubli[ée]\s+le\b", re.I)
PAGE_RESIDUE = frozenset(
    {
        "commentaires",
        "commentaire",
        "partager",
        "imprimer",
        "lire aussi",
        "a lire aussi",
        "publicite",
        "newsletter",
        "s'abonner",
        "abonnez-vous",
        "sur le meme sujet",
    }
)


def nonblank_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines of ``text``, stripped of surrounding white space."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            left = len(line) - len(line.lstrip())
            right = len(line.rstrip())
            spans.append((match.start() + left, match.start() + right))
    return spans


def is_residue(line: str) -> bool:
    """Whether ``line`` is page furniture ("Partager", "Lire aussi"), not article text."""
    return line.strip(" .:!").lower() in PAGE_RESIDUE


def looks_like_heading(line: str) -> bool:
    """Whether ``line`` is short and unpunctuated at its end, as a heading is."""
    stripped = line.rstrip()
    return len(stripped) <= HEADING_MAX_CHARS and not stripped.endswith((".", "!", "…", ":", ";", ","))


def is_credit(line: str) -> bool:
    """Whether ``line`` is a credit line ("Rédigé par …", "Publié le …")."""
    return bool(CREDIT_LINE.search(line)) and len(line) <= HEADING_MAX_CHARS
