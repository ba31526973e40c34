"""New articles without a restart: a running app takes up the index ``qa index`` saved meanwhile.

The index folder's manifest is its one switch point (:mod:`qa.index.store`): ``qa index`` writes
the new vectors beside the old ones, then replaces the manifest atomically. An
:class:`IndexWatcher` looks at the manifest every ``QA_INDEX_CHECK`` seconds (one ``os.stat``:
inode, modification time, size), and at once on ``SIGHUP``. When it changed and names other
articles or another model than the engine in service, the watcher loads a new engine in its own
thread (the articles read again from ``QA_ARTICLES``, the model already loaded reused) and hands
it to the assistant (:meth:`qa.web.service.Assistant.replace_engine`): the next questions get it,
those in progress finish with the engine they started with.

A serving process never builds an index: when the manifest does not match the articles (an
article changed after the index was built) or the new index cannot be loaded, it logs one warning
and goes on answering from the engine it has, until the manifest changes again. Several
processes can therefore share one index folder: they only read it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.index.store import MANIFEST, read_manifest
from qa.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from qa.engine import Engine
    from qa.web.service import Assistant

__all__ = ["IndexWatcher", "manifest_stamp", "watch_index"]
log = logging.getLogger(__name__)

Stamp = tuple[int, int, int]  # the manifest's inode, modification time (ns) and size
STOP_TIMEOUT = 2.0  # seconds the app's shutdown waits for a load in progress (then drops it)


def manifest_stamp(index_dir: Path) -> Stamp | None:
    """What tells one manifest from the next without reading it; ``None`` when there is none."""
    try:
        status = os.stat(index_dir / MANIFEST)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def default_loader(settings: Settings, current: Engine) -> Engine:
    """A new engine over the articles of ``settings`` and the saved index, with ``current``'s model."""
    from qa.engine import Engine

    return Engine.load(dataclasses.replace(settings, rebuild=False), encoder=current.encoder)


class IndexWatcher:
    """Puts a new engine in ``assistant`` when the index's manifest changes (see the module).

    ``interval``: seconds between two looks at the manifest; ``settings``: the library's, whose
    articles and index folder are read (default: the engine's own); ``loader``: how a new engine
    is made from them and the engine in service (tests count or fail it).
    """

    def __init__(
        self,
        assistant: Assistant,
        interval: float,
        settings: Settings | None = None,
        loader: Callable[[Settings, Engine], Engine] = default_loader,
    ) -> None:
        """Watch the index of ``settings`` for ``assistant``; nothing runs before :meth:`start`."""
        self.assistant = assistant
        self.interval = interval
        self.settings = settings or getattr(assistant.engine, "settings", None) or Settings()
        self.loader = loader
        self.switches = 0  # new engines put in service
        self._seen: Stamp | None = None  # the manifest last looked at (None: look at the next check)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._checking = threading.Lock()
        self._thread: threading.Thread | None = None
        self._previous_handler: object = None

    @property
    def index_dir(self) -> Path:
        """The watched index folder."""
        return self.settings.index_dir

    def start(self) -> IndexWatcher:
        """Look at the manifest from now on, in a daemon thread (the first look at once)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._wake.set()  # the index may have changed while the engine was loading
            self._thread = threading.Thread(target=self._run, name="qa-index-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop looking; waits for a load in progress to end (up to ``timeout`` seconds)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.restore_signal()

    def wake(self) -> None:
        """Look at the manifest now, as ``SIGHUP`` does, even if it looks unchanged."""
        self._seen = None
        self._wake.set()

    def handle_sighup(self) -> bool:
        """Make ``SIGHUP`` call :meth:`wake`; only in the main thread, where there is a ``SIGHUP``.

        Returns whether the handler was installed.
        """
        if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
            return False
        self._previous_handler = signal.signal(signal.SIGHUP, lambda signum, frame: self.wake())
        return True

    def restore_signal(self) -> None:
        """Give ``SIGHUP`` back the handler it had before :meth:`handle_sighup`."""
        previous, self._previous_handler = self._previous_handler, None
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, previous)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watcher must outlive any surprise
                log.exception("index : vérification impossible, nouvel essai au prochain changement")

    def check(self) -> bool:
        """Look at the manifest once; put a new engine in service if it is another index.

        Returns whether the engine was replaced. A manifest that does not match the articles, or
        an index that cannot be loaded, leaves the engine in service (one warning), until the
        manifest changes again.
        """
        with self._checking:
            stamp = manifest_stamp(self.index_dir)
            if stamp is None or stamp == self._seen:
                return False
            self._seen = stamp
            current = self.assistant.engine
            if self._in_service(current):
                return False
            started = time.monotonic()
            try:
                engine = self.loader(self.settings, current)
                self.assistant.replace_engine(engine)
            except Exception as error:  # noqa: BLE001 - whatever failed, the old engine keeps serving
                log.warning(
                    "nouvel index %s non utilisé (%s) : l'index en service continue de répondre",
                    self.index_dir,
                    " ".join(str(error).split()) or type(error).__name__,
                )
                return False
            self.switches += 1
            health = engine.health()
            log.info(
                "nouvel index en service : %s articles, %s unités (chargé en %.1f s)",
                health.get("articles"),
                health.get("units"),
                time.monotonic() - started,
            )
            return True

    def _in_service(self, engine: Engine) -> bool:
        """Whether the manifest describes the index ``engine`` already answers from.

        Same articles (ids and checksums), same unit table and model: saved again, not changed
        (the app built it itself at start-up, or ``qa index`` found nothing new).
        """
        index = getattr(engine, "index", None)
        if index is None:
            return False
        try:
            return read_manifest(self.index_dir).describes(index)
        except Exception:  # noqa: BLE001 - unreadable: the load says why
            return False


def watch_index(app: FastAPI, settings: Settings, interval: float, sighup: bool = True) -> IndexWatcher:
    """Watch the index of ``settings`` for ``app``'s assistant while the app runs (its lifespan).

    ``sighup``: also look at once on ``SIGHUP``, when the app starts in the main thread (as
    uvicorn runs it; an app started elsewhere, a test's client, leaves the signal alone).
    """
    watcher = IndexWatcher(app.state.assistant, interval, settings)
    app.state.index_watcher = watcher
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[object]:
        async with inner(app) as state:
            if sighup:
                watcher.handle_sighup()
            watcher.start()
            try:
                yield state
            finally:
                watcher.stop(timeout=STOP_TIMEOUT)

    app.router.lifespan_context = lifespan
    return watcher
