"""What one client, or the whole crowd, may ask of the server; and the Gradio routes left closed.

- :class:`RateLimit`: at most ``QA_RATE_LIMIT`` requests that run something (a question, a vote)
  a minute and client address, over ``POST /api/ask`` and Gradio's endpoints together; then 429.
- :class:`Gate`: at most ``concurrency`` engine calls at once and ``waiting`` in line; a call that
  cannot start or finish within ``timeout`` seconds gets a French 503 or 504 instead of hanging.
- :class:`ClosedRoutes`: 404 for Gradio routes the page never uses (uploads, files, monitoring…).
- :class:`GradioBodies`: Gradio's POST bodies capped in size, and ``queue/join`` checked for a
  known event, so that a malformed request gets a 4xx, not Gradio's 500.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from qa.web.middleware import ASGIApp, Message, Receive, Scope, Send
from qa.web.security import RateLimiter

T = TypeVar("T")
# POSTs that make the server work: the JSON API, and Gradio's ways of running an event.
COUNTED = re.compile(r"^(?:/staff)?/(?:api/ask$|gradio_api/(?:queue/join|call/|run/|api/))")
CLOSED = re.compile(
    r"^(?:/staff)?/(?:monitoring|gradio_api/(?:upload|process_recording|file[=/]|proxy=|stream/"
    r"|vibe-|undo-vibe-edit|run-history|dev/reload))"
)
GRADIO_POST = re.compile(r"^(?P<mount>/staff)?/gradio_api/")
GRADIO_MAX_BODY = 2 * 1024 * 1024  # the chat sends its whole history with each question
TOO_MANY = "Trop de questions en peu de temps : réessayez dans une minute."
BUSY = "Le service est très sollicité : réessayez dans quelques secondes."
TOO_SLOW = "La réponse a pris trop de temps : réessayez dans quelques secondes."


async def send_json(send: Send, status: int, body: dict, headers: Mapping[str, str] | None = None) -> None:
    """Send a whole JSON response from ASGI middleware."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json; charset=utf-8"),
           (b"content-length", str(len(data)).encode()), (b"cache-control", b"no-store")]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def client_address(scope: Scope) -> str:
    """Return the rate-limit key: the client's address (kept in memory only, never logged)."""
    client = scope.get("client")
    return client[0] if client else "inconnu"


class RateLimit:
    """Answers 429 (French message, ``Retry-After``) past the limit of counted POSTs per client."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        """Wrap ``app``; ``limiter`` counts per client address."""
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request if it runs something; refuse it when over the limit."""
        if scope["type"] == "http" and scope["method"] == "POST" and COUNTED.match(scope["path"]):
            key = client_address(scope)
            if not self.limiter.allow(key):
                wait = str(math.ceil(self.limiter.retry_after(key)))
                await send_json(send, 429, {"error": TOO_MANY, "detail": TOO_MANY}, {"Retry-After": wait})
                return
        await self.app(scope, receive, send)


class ClosedRoutes:
    """Answers 404 for the Gradio routes this app does not use (see :data:`CLOSED`)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse closed paths, pass everything else."""
        if scope["type"] in ("http", "websocket") and CLOSED.match(scope.get("path", "")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send_json(send, 404, {"error": "Adresse inconnue.", "detail": "Adresse inconnue."})
            return
        await self.app(scope, receive, send)


class GradioBodies:
    """Caps Gradio's POST bodies and refuses ``queue/join`` for an event that does not exist.

    ``events`` maps a mount (``""`` for the public page, ``"/staff"``) to a function returning the
    ids of its events; Gradio itself answers an unknown id with a 500.
    """

    def __init__(self, app: ASGIApp, events: Mapping[str, Callable[[], set[int]]],
                 max_body: int = GRADIO_MAX_BODY) -> None:
        """Wrap ``app``."""
        self.app = app
        self.events = events
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body of a Gradio POST (bounded), check it, then replay it to Gradio."""
        match = GRADIO_POST.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            message = f"Requête trop volumineuse ({self.max_body // (1024 * 1024)} Mo au plus)."
            await send_json(send, 413, {"error": message, "detail": message})
            return
        if scope["path"].endswith("/queue/join") and not self._known(match["mount"] or "", body):
            message = "Requête invalide : événement inconnu."
            await send_json(send, 422, {"error": message, "detail": message})
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return bytes(body)
            body.extend(message.get("body", b""))
            if len(body) > self.max_body:
                return None
            if not message.get("more_body", False):
                return bytes(body)

    def _known(self, mount: str, body: bytes) -> bool:
        """Whether a ``queue/join`` body names an existing event (anything else: Gradio decides)."""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return True  # not JSON: Gradio's own validation answers 4xx
        fn_index = payload.get("fn_index") if isinstance(payload, dict) else None
        if fn_index is None or mount not in self.events:
            return True
        return isinstance(fn_index, int) and fn_index in self.events[mount]()


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as Starlette does

    return replay


class Busy(Exception):
    """The engine could not take or finish a call in time; ``status`` is 503 or 504."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the HTTP status and the French message."""
        super().__init__(message)
        self.status = status
        self.message = message


class Gate:
    """Bounds the engine calls of the web layer: how many run, how many wait, and for how long.

    A call that times out keeps its slot until its thread really ends (threads cannot be
    stopped), so the bound on concurrent work holds even then.
    """

    def __init__(self, concurrency: int, waiting: int, timeout: float) -> None:
        """Allow ``concurrency`` calls at once, ``waiting`` more in line, ``timeout`` s each."""
        self.concurrency = concurrency
        self.waiting = waiting
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._queued = 0

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` in a worker thread once a slot is free.

        Raises:
            Busy: 503 when the line is full or no slot frees up in time, 504 when the call
                takes longer than the time left.

        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if self._queued >= self.waiting:
            raise Busy(503, BUSY)
        self._queued += 1
        try:
            async with asyncio.timeout(self.timeout):
                await self._slots.acquire()
        except TimeoutError as error:
            raise Busy(503, BUSY) from error
        finally:
            self._queued -= 1
        task = asyncio.ensure_future(run_in_threadpool(function, *args))
        task.add_done_callback(self._finished)
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(task)
        except TimeoutError as error:
            raise Busy(504, TOO_SLOW) from error

    def _finished(self, task: asyncio.Future) -> None:
        self._slots.release()
        if not task.cancelled():
            task.exception()  # retrieved: a late failure is not reported as "never retrieved"
