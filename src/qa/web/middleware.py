"""ASGI middleware: security headers, a French page, HTTP Basic on ``/staff``, forwarded headers.

They are plain ASGI classes (no ``BaseHTTPMiddleware``) so that Gradio's server-sent events stream
through untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from qa.web.security import STAFF_REALM, TrustedProxies, basic_password, parse_address, password_matches

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HTML_LANG = re.compile(rb"(<html\b[^>]*?\slang=\")[^\"]*(\")", re.IGNORECASE | re.DOTALL)
HTML_OPEN = re.compile(rb"<html\b", re.IGNORECASE)
HEAD_OPEN = re.compile(rb"<head\b[^>]*>(\s*<meta\s+charset=[^>]*>)?", re.IGNORECASE)
MAX_PAGE_BYTES = 4 * 1024 * 1024


def _headers(message: Message) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in message.get("headers", [])}


class SecurityHeaders:
    """Adds ``Content-Security-Policy: frame-ancestors …``, ``nosniff`` and the referrer policy."""

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        """Wrap ``app``; ``frame_ancestors`` is the whole CSP value."""
        self.app = app
        self.extra = [
            (b"content-security-policy", frame_ancestors.encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        self.names = {name for name, _ in self.extra} | {b"x-frame-options"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, amending the response headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                message["headers"] = kept + self.extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FrenchPage:
    """Rewrites Gradio's HTML pages to ``<html lang="fr">`` and adds a head script and title.

    Gradio's template says ``lang="en"`` and its front end then sets ``lang`` to the browser's
    language; the head script makes that language French before the front end starts, so both
    the attribute and Gradio's own interface strings are French. Page requests (``Accept:
    text/html`` or a path ending in ``/``) are asked uncompressed so that they can be rewritten;
    any uncompressed HTML response is.
    """

    def __init__(self, app: ASGIApp, head: str) -> None:
        """Wrap ``app``; ``head`` is HTML inserted right after ``<head>``."""
        self.app = app
        self.head = head.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite HTML responses to page navigations; pass everything else through."""
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        accept = dict(scope.get("headers", [])).get(b"accept", b"")
        if b"text/html" in accept or scope["path"].endswith("/"):
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewriting_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = _headers(message)
                is_html = headers.get(b"content-type", b"").startswith(b"text/html")
                if is_html and b"content-encoding" not in headers:
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body") and sum(map(len, chunks)) < MAX_PAGE_BYTES:
                    return
                more = message.get("more_body", False)
                await self._send_page(send, start, b"".join(chunks), more)
                start = None
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)

    async def _send_page(self, send: Send, start: Message, body: bytes, more: bool) -> None:
        if not more:
            body = self.rewrite(body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if not more:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": more})

    def rewrite(self, page: bytes) -> bytes:
        """Set ``lang="fr"`` on ``<html>`` and insert the head HTML."""
        if HTML_LANG.search(page):
            page = HTML_LANG.sub(rb"\1fr\2", page, count=1)
        else:
            page = HTML_OPEN.sub(b'<html lang="fr"', page, count=1)
        return HEAD_OPEN.sub(lambda m: m.group(0) + self.head, page, count=1)


class StaffAuth:
    """HTTP Basic on every path under ``prefix`` when a password is set (any user name)."""

    def __init__(self, app: ASGIApp, password: str | None, prefix: str = "/staff") -> None:
        """Wrap ``app``; with no ``password`` the staff paths are open."""
        self.app = app
        self.password = password
        self.prefix = prefix.rstrip("/")

    def _guarded(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse staff requests without the password with a French 401."""
        if (
            scope["type"] not in ("http", "websocket")
            or not self.password
            or not self._guarded(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        if password_matches(basic_password(header), self.password):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {"error": "Accès réservé à l'équipe : mot de passe requis."}, ensure_ascii=False
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", f'Basic realm="{STAFF_REALM}", charset="UTF-8"'.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"forwarded")
FORWARDED_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::\d{1,5})?"
    r"|\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?"
)
BAD_FORWARDED = "En-tête X-Forwarded-For invalide : une adresse IP est attendue."


class ForwardedHeaders:
    """Believes ``X-Forwarded-*`` only from trusted proxies, and only when they parse.

    From a trusted peer, the client address comes from ``X-Forwarded-For`` (400 when it is not
    an IP address), the scheme from ``X-Forwarded-Proto`` (``http``/``https`` only) and Gradio
    may use ``X-Forwarded-Host`` if it is a host name; from anyone else these headers are removed
    before the app sees them. Run uvicorn with ``proxy_headers=False``: this replaces its own
    handling (if uvicorn already rewrote the address, a client that is not an IP gets the 400).
    """

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        """Wrap ``app``; ``trusted`` lists the proxies."""
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the client and scheme from a trusted proxy; drop forwarded headers otherwise."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else None
        headers = scope.get("headers", [])
        if (
            host is not None
            and parse_address(host) is None
            and any(k == b"x-forwarded-for" for k, _ in headers)
        ):
            await _bad_request(send, scope)  # uvicorn's own proxy handling took garbage
            return
        values = {k: v.decode("latin-1") for k, v in headers if k in FORWARDED}
        several = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
        if several:
            values[b"x-forwarded-for"] = ", ".join(several)
        scope = dict(scope)
        if host in self.trusted:
            if not self._believe(scope, values):
                await _bad_request(send, scope)
                return
            host_value = values.get(b"x-forwarded-host", "")
            keep = {b"x-forwarded-host"} if FORWARDED_HOST.fullmatch(host_value) else set()
        else:
            keep = set()
        scope["headers"] = [(k, v) for k, v in headers if k not in FORWARDED or k in keep]
        await self.app(scope, receive, send)

    def _believe(self, scope: Scope, values: dict[bytes, str]) -> bool:
        forwarded_for = values.get(b"x-forwarded-for")
        if forwarded_for is not None:
            address = self.trusted.client(forwarded_for)
            if address is None:
                return False
            scope["client"] = (address, 0)
        proto = values.get(b"x-forwarded-proto", "").strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        return True


async def _bad_request(send: Send, scope: Scope) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": BAD_FORWARDED, "detail": BAD_FORWARDED}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
