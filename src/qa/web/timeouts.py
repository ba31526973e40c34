"""Slow clients cut off: uvicorn's HTTP/1.1 protocol with a deadline for a request's headers.

uvicorn has no such deadline: a socket that sends nothing, or one header line every few seconds,
stays open for as long as it likes, and enough of them exhaust ``QA_MAX_CONNECTIONS`` (every
request then gets uvicorn's 503). :class:`H11WithTimeouts` closes a connection whose request
line and headers are not complete ``header_timeout`` seconds after its first byte (or after the
connection opened), and one that keeps trickling a body the app has already answered. Bodies
that the app reads have their own deadline (``QA_REQUEST_TIMEOUT``, a 408). Idle keep-alive
connections are closed by uvicorn itself (``timeout_keep_alive``).

``python app.py`` uses it; with uvicorn's command line, pass
``--http qa.web.timeouts:H11WithTimeouts`` (``QA_HEADER_TIMEOUT`` sets the deadline).
"""

from __future__ import annotations

import asyncio
import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT = 5.0  # seconds for a request line and its headers


class H11WithTimeouts(H11Protocol):
    """uvicorn's h11 protocol, closing connections that are too slow to send a request."""

    header_timeout: float = float(os.environ.get("QA_HEADER_TIMEOUT") or DEFAULT_HEADER_TIMEOUT)
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
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
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def _owing(self) -> bool:
        """Headers started but incomplete, or a body still arriving after the response."""
        their, ours = self.conn.their_state, self.conn.our_state
        partial = their is h11.IDLE and bool(self.conn.trailing_data[0])
        return partial or (their is h11.SEND_BODY and ours in (h11.DONE, h11.MUST_CLOSE))

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        opened = self.conn.their_state is h11.IDLE and self.cycle is None
        if opened or self._owing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[H11WithTimeouts]:
    """:class:`H11WithTimeouts` with its deadline set to ``seconds``."""
    return type("H11WithTimeouts", (H11WithTimeouts,), {"header_timeout": float(seconds)})
