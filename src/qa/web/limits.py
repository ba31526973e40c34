"""What one client, or the whole crowd, may ask of the server; each limit refused in French.

- Rate: :class:`RateLimiter` counts, :func:`charge` refuses (429, ``Retry-After``) past
  ``QA_RATE_LIMIT`` requests that run something (a question, a vote, a diagnostic) a minute and
  client address, over ``POST /api/ask`` and Gradio's endpoints together. :class:`RateLimit`
  charges the routes that always run something; a Gradio event (``queue/join``) is charged by
  :class:`qa.web.gradio.GradioBodies` once it knows which one it is (:data:`COUNTED_EVENTS`):
  clearing the chat and loading the page are not questions. The window moves (the ``limits``
  library); the count is in memory, or in Redis shared by every process
  (``QA_RATE_LIMIT_STORAGE``), with this process's memory standing in while Redis is down.
- Body size and time: :func:`read_body` reads a whole body within a size (413) and a deadline
  (408, ``QA_BODY_TIMEOUT``), for ``POST /api/ask`` (:data:`MAX_BODY_BYTES`) and every Gradio
  POST (:data:`GRADIO_MAX_BODY`).
- Open requests: :class:`ClientSlots` lets one client address have at most
  ``QA_MAX_CLIENT_CONNECTIONS`` requests in progress, ``QA_MAX_CLIENT_STREAMS`` of them event
  streams (a quick 429 that closes the connection beyond): one client cannot hold every
  connection of the server (its TCP connections are capped by :mod:`qa.web.timeouts`).
- Gate: :class:`qa.web.gate.Gate` bounds the engine calls themselves.

Every refusal is a :class:`qa.web.errors.Refusal`. The routes left open are in
:mod:`qa.web.gradio.routes`, Gradio's bodies are checked in :mod:`qa.web.gradio.bodies`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.web.errors import Refusal

T = TypeVar("T")
logger = logging.getLogger(__name__)
# POSTs that always make the server work: the JSON API, and Gradio's named endpoints.
COUNTED = re.compile(r"^(?:/staff)?/(?:api/ask$|gradio_api/(?:call/|run/|api/))")
# Gradio events that run the engine or write the log (by function name); the others (clearing the
# chat, loading the page, reading the staff log) do not count against the limit.
COUNTED_EVENTS = frozenset({"respond", "vote", "ask", "diagnose"})
# Event streams that stay open: the session's heartbeat, its queue messages, a call's result.
STREAMS = re.compile(r"^(?:/staff)?/gradio_api/(?:heartbeat/[^/]+|queue/data|call/(?:v2/)?[^/]+/[^/]+)$")
MAX_BODY_BYTES = 64 * 1024  # a POST /api/ask
GRADIO_MAX_BODY = 2 * 1024 * 1024  # a Gradio POST: the chat sends its whole history with each question
TOO_MANY = "Trop de questions en peu de temps : réessayez dans une minute."
TOO_LARGE = "Requête trop volumineuse ({} au plus)."
BODY_TOO_SLOW = "Requête trop lente : le corps n'est pas arrivé à temps."
TOO_MANY_OPEN = "Trop de connexions ouvertes depuis votre adresse : réessayez dans quelques secondes."
RETRY_SOON = {"Retry-After": "5"}  # too many connections open: try again soon
CLOSE = {"Connection": "close"}  # a body left unread, a client that holds too much: closed after


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds and key (a client address), in a moving window.

    The count is the ``limits`` library's :class:`~limits.strategies.MovingWindowRateLimiter`,
    kept in this process's memory (``memory://``) or in Redis (``redis://host:port/db``, keys
    prefixed with ``prefix``), where every process of the app shares it. :attr:`state` is
    ``"memory"``, ``"shared"`` (Redis answers) or ``"fallback"``: Redis failed, and the count is
    kept in this process's memory until it answers again. A Redis error never reaches the caller:
    after one, Redis is left alone for ``retry_interval`` seconds, then tried again.

    The calls are synchronous although the middleware is async: a Redis round trip on loopback is
    well under a millisecond, each is bounded by ``timeout`` (connect and read, no retry), and
    after a failure Redis is not tried for ``retry_interval``: the event loop waits at most
    ``timeout`` once per interval while Redis is down, never longer.
    """

    def __init__(
        self,
        limit: int,
        window: int = 60,
        storage: str = "memory://",
        retry_interval: float = 5.0,
        timeout: float = 0.5,
        prefix: str = "qa",
    ) -> None:
        """Allow ``limit`` hits per ``window`` seconds (a whole number) and client.

        ``storage`` is ``QA_RATE_LIMIT_STORAGE``. The memory count (the storage, or the fallback
        while Redis is down) forgets clients with no hit left in the window at least once a
        window: the library keeps an empty entry for each client it has seen.

        Raises:
            ValueError: for a window that is not a whole number of seconds, at least 1.

        """
        if window < 1 or window != int(window):
            raise ValueError(f"fenêtre de limite invalide : {window!r} (en secondes entières)")
        self.limit = limit
        self.window = int(window)
        self.retry_interval = retry_interval
        self.item: RateLimitItem = (
            RateLimitItemPerMinute(limit, self.window // 60)
            if self.window % 60 == 0
            else RateLimitItemPerSecond(limit, self.window)
        )
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if urlsplit(storage).scheme != "memory":
            options: dict[str, Any] = {
                "key_prefix": prefix,
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry": Retry(NoBackoff(), 0),  # redis-py's default retries 3 times with backoff
            }
            self._shared = MovingWindowRateLimiter(storage_from_string(storage, **options))
        self._state = "memory" if self._shared is None else "shared"
        self._down_until = 0.0  # monotonic time before which Redis is not tried
        self._next_prune = time.monotonic() + self.window
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``"memory"``, ``"shared"`` or ``"fallback"``; with Redis, asks it (a ``PING``) when due."""
        if self._shared is not None and time.monotonic() >= self._down_until:
            if self._shared.storage.check():  # False on any error, within ``timeout``
                self._answered()
            else:
                self._failed("pas de réponse au PING")
        return self._state

    def allow(self, key: str) -> bool:
        """Count a hit for ``key``; ``False`` when it is over the limit (the hit is not counted)."""
        return self._run(lambda limiter: limiter.hit(self.item, key))

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may be counted again (0 when it may now): the window's reset time."""
        stats = self._run(lambda limiter: limiter.get_window_stats(self.item, key))
        if stats.remaining > 0:
            return 0.0
        return max(stats.reset_time - time.time(), 0.0)

    def _run(self, call: Callable[[MovingWindowRateLimiter], T]) -> T:
        """``call`` on Redis when it is in use and due, else (or when it fails) on the memory count."""
        self._prune()
        if self._shared is not None and time.monotonic() >= self._down_until:
            try:
                result = call(self._shared)
            except (RedisError, StorageError, OSError) as error:
                self._failed(f"{type(error).__name__} : {str(error)[:200]}")
            else:
                self._answered()
                return result
        return call(self._memory)

    def _failed(self, reason: str) -> None:
        """Redis failed: use the memory count for ``retry_interval`` seconds; log the change once."""
        with self._lock:
            self._down_until = time.monotonic() + self.retry_interval
            if self._state != "fallback":
                self._state = "fallback"
                logger.warning(
                    "Limite de débit : Redis ne répond pas (%s) ; comptée dans la mémoire de ce "
                    "processus, nouvel essai dans %g s.",
                    reason,
                    self.retry_interval,
                )

    def _answered(self) -> None:
        """Redis answered: the count is shared again; log the change once."""
        if self._state == "shared":
            return
        with self._lock:
            if self._state != "shared":
                self._state = "shared"
                logger.warning("Limite de débit : Redis répond de nouveau ; la limite est partagée.")

    def _prune(self) -> None:
        """At most once a window, forget the memory count's clients with no hit left in it.

        The library drops expired hits but keeps an empty entry for every client it has seen
        (``limits`` 5.8): without this, a stream of new addresses would grow the memory for ever.
        """
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + self.window
        storage = self._memory.storage
        wall = time.time()
        for key, events in list(storage.events.items()):
            if not events or events[0].expiry <= wall:  # newest first: all expired
                with storage.locks[key]:
                    events = storage.events.get(key)
                    if not events or events[0].expiry <= wall:
                        storage.events.pop(key, None)
                storage.locks.pop(key, None)


def client_address(scope: Scope) -> str:
    """Return the rate-limit key: the client's address (never logged; kept at most a window)."""
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
            try:
                charge(self.limiter, scope)
            except Refusal as refused:
                await refused.answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ClientSlots:
    """At most ``connections`` requests in progress per client, ``streams`` of them event streams.

    The client is the one the rate limit counts (:func:`client_address`, behind a trusted proxy
    the visitor). Beyond, a 429 (French, ``Retry-After``, ``Connection: close``) at once.
    """

    def __init__(self, app: ASGIApp, connections: int, streams: int) -> None:
        """Wrap ``app``."""
        self.app = app
        self.limits = (connections, streams)
        self.open: Counter[str] = Counter()
        self.streams: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request while it runs; refuse it when its client has too many."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = client_address(scope)
        stream = scope["method"] in ("GET", "HEAD") and STREAMS.match(scope["path"]) is not None
        if self.open[key] >= self.limits[0] or (stream and self.streams[key] >= self.limits[1]):
            await Refusal(429, TOO_MANY_OPEN, {**RETRY_SOON, **CLOSE}).answer(scope, receive, send)
            return
        counters = (self.open, self.streams) if stream else (self.open,)
        for counter in counters:
            counter[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for counter in counters:
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]  # the memory held stays that of the clients connected now


def charge(limiter: RateLimiter, scope: Scope) -> None:
    """Count one request of the client of ``scope``.

    Raises:
        Refusal: 429 with ``Retry-After`` when the client is over the limit (not counted then).
    """
    key = client_address(scope)
    if not limiter.allow(key):
        wait = max(math.ceil(limiter.retry_after(key)), 1)  # 0 only if the window just moved
        raise Refusal(429, TOO_MANY, {"Retry-After": str(wait)})


async def read_body(receive: Receive, max_bytes: int, timeout: float) -> bytes:
    """Read a request's whole body: at most ``max_bytes``, all within ``timeout`` seconds.

    Raises:
        Refusal: 413 past ``max_bytes``, 408 past ``timeout``.
        ClientDisconnect: when the client leaves before the end of the body.

    """
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect
                body.extend(message.get("body", b""))
                if len(body) > max_bytes:
                    raise too_large(max_bytes)
                if not message.get("more_body", False):
                    return bytes(body)
    except TimeoutError as error:
        raise Refusal(408, BODY_TOO_SLOW, CLOSE) from error


def too_large(max_bytes: int) -> Refusal:
    """The 413 for a body over ``max_bytes``, the size in French (``64 Ko``, ``2 Mo``)."""
    mib = 1024 * 1024
    size = f"{max_bytes // mib} Mo" if max_bytes >= mib else f"{max_bytes // 1024} Ko"
    return Refusal(413, TOO_LARGE.format(size), CLOSE)
