"""Slow and greedy clients cut off: uvicorn's HTTP/1.1 protocol, a deadline for headers, a cap per address.

uvicorn has no such deadline: a socket that sends nothing, or one header line every few seconds,
stays open for as long as it likes, and enough of them exhaust ``QA_MAX_CONNECTIONS`` (every
request then gets uvicorn's 503). :class:`H11WithTimeouts` closes a connection whose request
line and headers are not complete ``header_timeout`` seconds after its first byte (or after the
connection opened), and one that keeps trickling a body the app has already answered. Bodies
that the app reads have their own deadline (``QA_BODY_TIMEOUT``, a 408). Idle keep-alive
connections are closed by uvicorn itself (``timeout_keep_alive``).

It also caps the TCP connections open at once from one address (``QA_MAX_CLIENT_CONNECTIONS``):
one more gets a French 429 and is closed at once, before it can hold one of the server's
``QA_MAX_CONNECTIONS``. Trusted proxies (``FORWARDED_ALLOW_IPS``) are not capped here, since
they carry many visitors: :class:`qa.web.limits.ClientSlots` caps each visitor behind them.

``python app.py`` uses it (:func:`protocol_for` its settings); with uvicorn's command line, pass
``--http qa.web.timeouts:H11WithTimeouts``: it reads :class:`qa.web.config.WebSettings` from the
environment at its first connection (``QA_HEADER_TIMEOUT``, ``QA_MAX_CLIENT_CONNECTIONS``,
``FORWARDED_ALLOW_IPS``), never on import. Each accepted connection also gets ``TCP_NODELAY``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from collections import Counter
from typing import ClassVar, NamedTuple

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from qa.web.config import WebSettings
from qa.web.limits import TOO_MANY_OPEN
from qa.web.proxies import TrustedProxies


class Limits(NamedTuple):
    """What :class:`H11WithTimeouts` enforces, from :class:`WebSettings`."""

    header_timeout: float  # seconds for a request line and its headers
    max_per_address: int  # TCP connections open at once from one address
    trusted: TrustedProxies  # addresses not capped (they carry many visitors)


@functools.cache
def limits_of(settings: WebSettings | None) -> Limits:
    """The :class:`Limits` of ``settings``; ``None``: of the environment, read once, when first asked."""
    settings = settings or WebSettings.from_env()
    return Limits(
        float(settings.header_timeout),
        settings.max_client_connections,
        TrustedProxies(settings.forwarded_allow_ips),
    )


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle off on a TCP connection, as asyncio means to but skips on some listeners.

    ``uvicorn --workers`` (and gunicorn's uvicorn worker) hand the workers a listening socket
    whose ``proto`` is 0; asyncio enables ``TCP_NODELAY`` only when it reads ``IPPROTO_TCP``
    there, so each keep-alive response waited ~40 ms for the client's delayed ACK (measured
    by ``qa bench --workers 2``: 92 ms against 44 ms for one client; uvicorn issue #3149).
    """
    sock = transport.get_extra_info("socket")
    if (
        sock is not None
        and sock.family in (socket.AF_INET, socket.AF_INET6)
        and sock.type == socket.SOCK_STREAM
    ):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _refusal() -> bytes:
    body = json.dumps({"error": TOO_MANY_OPEN, "detail": TOO_MANY_OPEN}, ensure_ascii=False).encode()
    head = (
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json; charset=utf-8\r\n"
        "cache-control: no-store\r\nretry-after: 5\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


REFUSED = _refusal()


class H11WithTimeouts(H11Protocol):
    """uvicorn's h11 protocol, closing connections too slow to send a request, or one too many."""

    web_settings: ClassVar[WebSettings | None] = None  # None: WebSettings.from_env(), at first use
    per_address: ClassVar[Counter[str]] = Counter()  # one count per server (class), for its connections
    _deadline: asyncio.TimerHandle | None = None
    _address: str | None = None

    @property
    def limits(self) -> Limits:
        """The deadline, the cap per address and the trusted proxies of this server."""
        return limits_of(self.web_settings)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse one connection too many from an address; start the clock for the first headers."""
        super().connection_made(transport)
        no_delay(transport)
        address = self.client[0] if self.client else None
        if address is not None and address not in self.limits.trusted:
            if self.per_address[address] >= self.limits.max_per_address:
                transport.write(REFUSED)
                transport.close()
                return
            self.per_address[address] += 1
            self._address = address
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Feed uvicorn, then keep the clock running only while the client owes us bytes."""
        super().data_received(data)
        if self.transport.is_closing():
            self._disarm()
        elif self._owing():
            if self._deadline is None:
                self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        """After a response: a body the app did not read must not trickle on forever."""
        super().on_response_complete()
        if self._owing() and self._deadline is None and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock; the address has one connection less."""
        self._disarm()
        if self._address is not None:
            self.per_address[self._address] -= 1
            if self.per_address[self._address] <= 0:
                del self.per_address[self._address]
            self._address = None
        super().connection_lost(exc)

    def _owing(self) -> bool:
        """Headers started but incomplete, or a body still arriving after the response."""
        their, ours = self.conn.their_state, self.conn.our_state
        partial = their is h11.IDLE and bool(self.conn.trailing_data[0])
        return partial or (their is h11.SEND_BODY and ours in (h11.DONE, h11.MUST_CLOSE))

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        opened = self.conn.their_state is h11.IDLE and self.cycle is None
        if opened or self._owing():
            self.transport.close()


def protocol_for(settings: WebSettings) -> type[H11WithTimeouts]:
    """:class:`H11WithTimeouts` with the limits of ``settings`` and a count per address of its own."""
    return type("H11WithTimeouts", (H11WithTimeouts,), {"web_settings": settings, "per_address": Counter()})
