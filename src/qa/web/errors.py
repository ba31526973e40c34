"""Every refusal of the web layer: one exception, one JSON body.

A refusal is ``{"error": "<message en français>", "detail": <the same>}`` with ``Cache-Control:
no-store`` and any extra headers (``Retry-After``, ``WWW-Authenticate``): ``error`` for the app's
own clients, ``detail`` for Gradio's clients (and FastAPI's convention). Routes return
:meth:`Refusal.response`; ASGI middleware sends :meth:`Refusal.answer`, which closes a WebSocket
instead (code 1008, policy violation). A message that quotes what a visitor sent quotes it
:func:`cut` to :data:`MAX_QUOTED_CHARS` characters; an unknown article is the library's
:class:`qa.errors.UnknownArticle`, its id cut so (:func:`unknown_article`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from qa.errors import UnknownArticle

MAX_QUOTED_CHARS = 80  # of a visitor's text quoted in a message (an unknown article id)


def cut(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` as a message may quote it: at most ``limit`` characters, « … » marking a cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def unknown_article(article_id: str, known: Iterable[str] = ()) -> UnknownArticle:
    """The library's error for an unknown article, its id :func:`cut`; ``str()`` is the French message."""
    return UnknownArticle(cut(article_id), known)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error of every refusal: ``status``, the French ``message``, ``headers`` added."""
    return JSONResponse(
        {"error": message, "detail": message},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json; charset=utf-8",
    )


class Refusal(Exception):
    """A request refused with an HTTP ``status``, a French ``message`` and extra ``headers``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        """Keep the status, the message and the headers (``Retry-After``, …)."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        """The refusal as a route's response."""
        return error_response(self.status, self.message, self.headers)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the refusal from ASGI middleware: the JSON error, or a WebSocket closed."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.response()(scope, receive, send)
