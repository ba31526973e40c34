"""Who may embed or call the app (CSP, CORS, security headers) and who may enter ``/staff``.

Plain policy functions, and the ASGI middleware that apply them: :class:`SecurityHeaders` and
:class:`StaffAuth` (HTTP Basic). Plain ASGI classes (no ``BaseHTTPMiddleware``) so that Gradio's
server-sent events stream through untouched.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.web.config import WebSettings
from qa.web.errors import Refusal

LOCALHOST_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
# CSP host sources cannot name an IPv6 literal, so [::1] is left to CORS only.
LOCALHOST_FRAME_SOURCES = (
    "http://localhost:*",
    "http://127.0.0.1:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
)
STAFF_REALM = "Espace equipe"  # ASCII: browsers show a realm with accents inconsistently
STAFF_ONLY = "Accès réservé à l'équipe : mot de passe requis."


def frame_ancestors(settings: WebSettings) -> str:
    """Return the ``Content-Security-Policy`` value: which pages may frame the app."""
    if "*" in settings.allowed_origins:
        return "frame-ancestors *"
    sources = settings.allowed_origins or LOCALHOST_FRAME_SOURCES
    return "frame-ancestors " + " ".join(("'self'", *sources))


def cors_options(settings: WebSettings) -> dict:
    """Keyword arguments for Starlette's ``CORSMiddleware`` matching the allowed origins.

    Same-origin requests need no CORS header, so the app's own origin is always served.
    """
    options: dict = {
        "allow_methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["*"],
        "allow_credentials": False,
        "max_age": 600,
    }
    if settings.allowed_origins:
        options["allow_origins"] = list(settings.allowed_origins)
    else:
        options["allow_origin_regex"] = LOCALHOST_ORIGIN_REGEX
    return options


def basic_password(header: str | None) -> str | None:
    """Return the password of an HTTP Basic ``Authorization`` header (any user), or ``None``."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep else None


def password_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no expected password means the staff view is open."""
    if not expected:
        return True
    if given is None:
        return False
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


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
        challenge = {"WWW-Authenticate": f'Basic realm="{STAFF_REALM}", charset="UTF-8"'}
        await Refusal(401, STAFF_ONLY, challenge).answer(scope, receive, send)
