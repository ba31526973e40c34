"""The gate of the engine calls: how many run at once, how many wait, and for how long.

:class:`Gate` runs at most ``concurrency`` engine calls at once (``QA_CONCURRENCY``) and ``waiting``
in line (``QA_QUEUE_SIZE``); a call that cannot start or finish within ``timeout`` seconds
(``QA_REQUEST_TIMEOUT``) is refused, 503 or 504, in French. The limits on what each client may
ask are in :mod:`qa.web.limits`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from qa.web.errors import Refusal

T = TypeVar("T")
BUSY = "Le service est très sollicité : réessayez dans quelques secondes."
TOO_SLOW = "La réponse a pris trop de temps : réessayez dans quelques secondes."
RETRY_SOON = {"Retry-After": "5"}  # the gate's refusals


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
            Refusal: 503 when the line is full or no slot frees up in time, 504 when the call
                takes longer than the time left (both with ``Retry-After: 5``).

        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if self._queued >= self.waiting:
            raise Refusal(503, BUSY, RETRY_SOON)
        self._queued += 1
        try:
            async with asyncio.timeout(self.timeout):
                await self._slots.acquire()
        except TimeoutError as error:
            raise Refusal(503, BUSY, RETRY_SOON) from error
        finally:
            self._queued -= 1
        task = asyncio.ensure_future(run_in_threadpool(function, *args))
        task.add_done_callback(self._finished)
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(task)
        except TimeoutError as error:
            raise Refusal(504, TOO_SLOW, RETRY_SOON) from error

    def _finished(self, task: asyncio.Future) -> None:
        self._slots.release()
        if not task.cancelled():
            task.exception()  # retrieved: a late failure is not reported as "never retrieved"
