"""Extractive French question answering over news articles: the engine, with no UI import.

The door: ``from qa import Engine, Settings, Answer, Status, Citation``. The names load on first
use, so that ``import qa`` (which every ``qa.*`` import runs, the web server's start included)
costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.answer import Answer, Citation, Status
    from qa.engine import Engine
    from qa.settings import Settings

__all__ = ["Answer", "Citation", "Engine", "Settings", "Status"]

_HOMES = {
    "Answer": "qa.answer",
    "Citation": "qa.answer",
    "Engine": "qa.engine",
    "Settings": "qa.settings",
    "Status": "qa.answer",
}


def __getattr__(name: str) -> object:
    """The door's names, imported from their modules on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    """The module's names and the door's."""
    return sorted({*globals(), *__all__})
