"""Figures written into the docs by the commands that measure them (``--write DOC``).

A document keeps each command's figures between two marks, ``<!-- mark -->`` and
``<!-- /mark -->``; the command replaces what lies between them, with the date and the command
line, so that every figure in docs/ says how to get it again.
"""

from __future__ import annotations

import datetime
from pathlib import Path


def write_figures(doc: Path, tables: str, command: str, mark: str = "qa eval") -> None:
    """Replace what lies between ``<!-- mark -->`` and ``<!-- /mark -->`` in ``doc`` with ``tables``.

    Raises:
        ValueError: when ``doc`` lacks the marks.
    """
    start, end = f"<!-- {mark} -->", f"<!-- /{mark} -->"
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{doc} : marques {start} et {end} absentes")
    day = datetime.date.today().isoformat()
    block = f"{start}\nMesuré le {day} par `{command}`.\n\n{tables}\n{end}"
    head, rest = text.split(start, 1)
    doc.write_text(head + block + rest.split(end, 1)[1], encoding="utf-8")
