"""Which routes answer at all: the app's own, and the few Gradio routes the page and clients use.

Everything else answers a French 404 before Gradio sees it, so a route added by a Gradio upgrade
stays closed until it is listed in :data:`GRADIO_ALLOWED` (the route-listing test,
``tests/test_web_gradio_guards.py::test_every_installed_gradio_route_is_either_allowed_or_closed``,
fails on any installed route that is in neither :data:`GRADIO_ALLOWED` nor :data:`GRADIO_CLOSED`).
GET routes that name a session or an event answer 404 when Gradio's queue (``Blocks._queue``)
does not know it, instead of Gradio's 200 with a cut-off stream; a heartbeat (an endless stream)
waits a few seconds for its session to join the queue (the page opens it just before its first
event), then answers 404. Every POST must declare ``Content-Type: application/json``: a
cross-site page can send only form and ``text/plain`` bodies without the CORS preflight that the
allowed origins pass.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from qa.web.errors import Refusal
from qa.web.limits import GRADIO_MAX_BODY, too_large

SESSION = r"[A-Za-z0-9_-]{1,64}"
SESSION_ID = re.compile(SESSION)
API = r"[A-Za-z0-9_-]{1,100}"
READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST"})
# (methods, path inside a Gradio mount): what the chat page, the staff page and clients need.
GRADIO_ALLOWED: tuple[tuple[frozenset[str], str], ...] = (
    (READ, r"/"),
    (READ, r"/config/?"),
    (READ, r"/static/.+"),
    (READ, r"/assets/.+"),
    (READ, r"/svelte/.+"),
    (READ, r"/favicon\.ico"),
    (READ, r"/theme\.css"),
    (READ, r"/robots\.txt"),
    (READ, r"/manifest\.json"),
    (READ, r"/pwa_icon(?:/\d{1,4})?"),
    (READ, r"/gradio_api/info/?"),
    (READ, r"/gradio_api/theme\.css"),
    (READ, r"/gradio_api/app_id/?"),
    (READ, r"/gradio_api/startup-events"),
    (READ, r"/gradio_api/(?:login_check|user|token)/?"),
    (READ, r"/gradio_api/queue/status"),
    (READ, rf"/gradio_api/heartbeat/{SESSION}"),
    (READ, r"/gradio_api/queue/data"),
    (READ, rf"/gradio_api/call/(?:v2/)?{API}/{SESSION}"),
    (WRITE, r"/gradio_api/queue/join"),
    (WRITE, r"/gradio_api/cancel"),
    (WRITE, r"/gradio_api/reset/?"),
    (WRITE, rf"/gradio_api/(?:call/v2|call|run|api)/{API}/?"),
    (WRITE, r"/gradio_api/component_server/?"),
)
# Gradio routes known and deliberately closed (the route-listing test checks both lists).
GRADIO_CLOSED: tuple[str, ...] = (
    "/openapi.json",
    "/login",
    "/login/",
    "/logout",
    "/gradio_api/deep_link",
    "/monitoring",
    "/monitoring/summary",
    "/monitoring/{key}",
    "/gradio_api/runs",
    "/gradio_api/runs/",
    "/gradio_api/dev/reload",
    "/gradio_api/openapi.json",
    "/gradio_api/custom_component/{id}/{environment}/{type}/{file_name}",
    "/gradio_api/proxy={url_path:path}",
    "/gradio_api/file={path_or_url:path}",
    "/gradio_api/file/{path:path}",
    "/gradio_api/stream/{event_id}",
    "/gradio_api/stream/{event_id}/close",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist.m3u8",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/{segment_id}.{ext}",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist-file",
    "/gradio_api/upload",
    "/gradio_api/upload_progress",
    "/gradio_api/process_recording",
    "/gradio_api/vibe-edit",
    "/gradio_api/vibe-edit/",
    "/gradio_api/undo-vibe-edit",
    "/gradio_api/undo-vibe-edit/",
    "/gradio_api/vibe-code",
    "/gradio_api/vibe-code/",
    "/gradio_api/vibe-starter-queries",
    "/gradio_api/vibe-starter-queries/",
)
# The app's own routes (qa.web.api) and the staff mount's bare path.
APP_ALLOWED: tuple[tuple[frozenset[str], str], ...] = (
    (WRITE, r"/api/ask"),
    (READ, r"/healthz"),
    (READ, r"/api/articles/[^/]{1,200}"),
    (READ, r"/gradio\.js"),
    (READ, r"/staff/export\.csv"),
    (READ | WRITE, r"/staff/api/verifications"),
    (WRITE, r"/staff/api/verifications/\d{1,12}/withdraw"),
    (READ, r"/staff"),
)
MOUNTS = r"(?P<mount>/staff)?"
COMPILED = [(methods, re.compile(MOUNTS + path)) for methods, path in GRADIO_ALLOWED] + [
    (methods, re.compile(path)) for methods, path in APP_ALLOWED
]
NAMED_IDS = re.compile(MOUNTS + r"/gradio_api/(?:(?P<data>queue/data)|call/(?:v2/)?[^/]+/(?P<event>[^/]+))")
HEARTBEAT = re.compile(MOUNTS + rf"/gradio_api/heartbeat/(?P<session>{SESSION})")
HEARTBEAT_GRACE = 10.0  # seconds a heartbeat waits for its session's first event (QA_HEARTBEAT_GRACE)
UNKNOWN = "Adresse inconnue."
NOT_JSON_TYPE = "Type de contenu non pris en charge : envoyez du JSON (Content-Type: application/json)."


def _not_json(headers: list[tuple[bytes, bytes]]) -> Refusal | None:
    """A POST's refusal before its body is read: declared too large (413), not JSON (415)."""
    fields = dict(headers)
    length = fields.get(b"content-length", b"")
    if length.isdigit() and int(length) > GRADIO_MAX_BODY:
        return too_large(GRADIO_MAX_BODY)
    if fields.get(b"content-type", b"").split(b";", 1)[0].strip().lower() != b"application/json":
        return Refusal(415, NOT_JSON_TYPE)
    return None


def allowed(method: str, path: str) -> bool:
    """Whether ``method path`` is a route this app answers (``OPTIONS`` wherever GET or POST is)."""
    for methods, pattern in COMPILED:
        if pattern.fullmatch(path) and (method in methods or method == "OPTIONS"):
            return True
    return False


class AllowedRoutes:
    """Answers 404 (French JSON) for every path not in the allow-lists, and for unknown ids.

    Every WebSocket is closed (the pages use none).

    ``pages`` maps a mount (``""``, ``"/staff"``) to its ``gr.Blocks``, whose queue tells a live
    session or event from an unknown one; a heartbeat waits ``grace`` seconds for its session.
    """

    def __init__(self, app: ASGIApp, pages: Mapping[str, Any], grace: float = HEARTBEAT_GRACE) -> None:
        """Wrap ``app``."""
        self.app = app
        self.pages = pages
        self.grace = grace

    def _queue(self, mount: str) -> Any | None:
        """The Gradio queue of ``mount`` as it is now (Gradio's private ``Blocks._queue``)."""
        blocks = self.pages.get(mount)
        return None if blocks is None else blocks._queue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is not allowed; pass everything else."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] == "websocket" or not allowed(scope["method"], path) or not self._known(scope, path):
            await Refusal(404, UNKNOWN).answer(scope, receive, send)  # a WebSocket is closed
            return
        if scope["method"] in WRITE:
            refused = _not_json(scope.get("headers", []))
            if refused is not None:
                await refused.answer(scope, receive, send)
                return
        heartbeat = HEARTBEAT.fullmatch(path) if scope["method"] in READ else None
        if heartbeat and not await self._live(heartbeat["mount"] or "", heartbeat["session"]):
            await Refusal(404, UNKNOWN).answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _live(self, mount: str, session: str) -> bool:
        """Whether ``session`` has joined the queue of ``mount``, waiting :attr:`grace` seconds for it."""
        if self._queue(mount) is None:
            return True
        for _ in range(int(self.grace / 0.05)):
            if session in self._queue(mount).pending_messages_per_session:
                return True
            await asyncio.sleep(0.05)
        return session in self._queue(mount).pending_messages_per_session

    def _known(self, scope: Scope, path: str) -> bool:
        """For ``queue/data`` and ``call/…/{event_id}``: whether the session or event exists."""
        match = NAMED_IDS.fullmatch(path)
        if match is None or scope["method"] not in READ:
            return True
        queue = self._queue(match["mount"] or "")
        if queue is None:
            return True
        if match["data"]:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            session = (query.get("session_hash") or [""])[0]
            return bool(SESSION_ID.fullmatch(session)) and session in queue.pending_messages_per_session
        event = match["event"]
        return event in queue.event_ids_to_events or any(
            event in ids for ids in queue.pending_event_ids_session.values()
        )
