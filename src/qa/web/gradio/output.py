"""Gradio's request-time output through logging: what it prints straight to the terminal.

Gradio calls ``traceback.print_exc()`` and ``print`` while serving a request (a failed event, a
bad body): a multi-line traceback, with what the visitor sent, on the terminal. :func:`route_gradio_output`
replaces those two names in the Gradio modules that use them (:data:`GRADIO_MODULES`), so that
they log through :class:`qa.web.logs.OneLineHandler` instead; a ``gr.Error`` (a message meant
for the visitor, which may quote what they sent) is logged as one line naming its type only.
"""

from __future__ import annotations

import logging
import sys
import traceback
import types
from typing import Any

from qa.web.logs import MAX_EXCEPTION_MESSAGE

log = logging.getLogger("gradio")
# Gradio modules that call traceback.print_exc() or print() while serving a request.
GRADIO_MODULES = ("gradio.routes", "gradio.queueing", "gradio.route_utils", "gradio.utils")


class _LoggedTraceback(types.ModuleType):
    """Stands for the ``traceback`` module inside Gradio: ``print_exc`` logs instead of printing."""

    def __init__(self) -> None:
        super().__init__("traceback")

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def print_exc(*_: object, **__: object) -> None:
        """Log the exception being handled (one line, through :class:`qa.web.logs.OneLineHandler`).

        A ``gr.Error`` is a message for the visitor (it may quote their input), not a fault: one
        line with its type, no message, no traceback.
        """
        from gradio.exceptions import Error as ShownToVisitor  # gradio is loaded by then

        error = sys.exc_info()[1]
        if isinstance(error, ShownToVisitor):
            log.info("Gradio : erreur montrée au visiteur (%s)", type(error).__name__)
            return
        log.error("erreur dans Gradio", exc_info=sys.exc_info())


def _logged_print(*args: object, **_: object) -> None:
    log.warning(" ".join(str(arg) for arg in args)[:MAX_EXCEPTION_MESSAGE])


def route_gradio_output() -> None:
    """Make Gradio's request-time tracebacks and prints go through logging (idempotent)."""
    for name in GRADIO_MODULES:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        module.traceback = _LoggedTraceback()
        module.print = _logged_print
    logging.captureWarnings(True)
