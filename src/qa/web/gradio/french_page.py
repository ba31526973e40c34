"""Gradio's pages in French: ``<html lang="fr">``, a head script that makes Gradio's front end French.

The page's inline scripts (Gradio's and the head script) get the response's CSP nonce
(:class:`qa.web.security.SecurityHeaders`), and Gradio's no-op ``<base href="./">`` goes, so
that the policy can say ``base-uri 'none'``. A plain ASGI middleware (no ``BaseHTTPMiddleware``)
so that Gradio's server-sent events stream through untouched.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.web.security import NONCE

HTML_LANG = re.compile(rb"(<html\b[^>]*?\slang=\")[^\"]*(\")", re.IGNORECASE | re.DOTALL)
HTML_OPEN = re.compile(rb"<html\b", re.IGNORECASE)
HEAD_OPEN = re.compile(rb"<head\b[^>]*>(\s*<meta\s+charset=[^>]*>)?", re.IGNORECASE)
SCRIPT_OPEN = re.compile(rb"<script\b", re.IGNORECASE)
NO_OP_BASE = re.compile(rb"<base\s+href=\"\./\"\s*/?>", re.IGNORECASE)
MAX_PAGE_BYTES = 4 * 1024 * 1024


def _headers(message: Message) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in message.get("headers", [])}


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
                await self._send_page(send, start, b"".join(chunks), more, scope.get(NONCE, ""))
                start = None
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)

    async def _send_page(self, send: Send, start: Message, body: bytes, more: bool, nonce: str) -> None:
        if not more:
            body = self.rewrite(body, nonce)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if not more:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": more})

    def rewrite(self, page: bytes, nonce: str = "") -> bytes:
        """Set ``lang="fr"`` on ``<html>``, insert the head HTML, put ``nonce`` on every script.

        Gradio's template writes its JSON with ``<`` escaped (as ``u003c``), so every ``<script``
        left in the page is a tag of the template or of the head HTML.
        """
        if HTML_LANG.search(page):
            page = HTML_LANG.sub(rb"\1fr\2", page, count=1)
        else:
            page = HTML_OPEN.sub(b'<html lang="fr"', page, count=1)
        page = HEAD_OPEN.sub(lambda m: m.group(0) + self.head, page, count=1)
        if nonce:
            page = SCRIPT_OPEN.sub(f'<script nonce="{nonce}"'.encode("ascii"), page)
        return NO_OP_BASE.sub(b"", page, count=1)
