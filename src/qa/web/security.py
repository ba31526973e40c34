"""Who may embed or call the app (CSP, CORS, headers), under which host names, who may enter ``/staff``.

Plain policy functions, and the ASGI middleware that apply them: :class:`SecurityHeaders` (a
whole Content-Security-Policy, a nonce per response for the page's inline scripts),
:class:`AllowedHosts` (``Host`` checked, never reflected) and :class:`StaffAuth` (HTTP Basic).
Plain ASGI classes (no ``BaseHTTPMiddleware``) so that Gradio's server-sent events stream through
untouched.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import urlsplit

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
BAD_HOST = "Hôte non autorisé : utilisez l'adresse publique du service."
# Responses a browser may render as a document (the whole policy); the others (JSON, scripts,
# styles, event streams) only say who may frame them.
DOCUMENTS = (b"text/html", b"image/svg+xml", b"application/xhtml+xml", b"text/xml", b"application/xml")
NONCE = "qa.csp_nonce"  # the scope key of the response's nonce (read by qa.web.gradio.french_page)
# Gradio's front end: its inline scripts carry the nonce (qa.web.gradio.french_page); it evaluates
# templates and event scripts with Function() ('unsafe-eval': gr.HTML, the page's ``js``) and
# writes <style> elements and style attributes ('unsafe-inline' for styles only).
CSP = (
    "{frame_ancestors}; default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; media-src 'self' data: blob:; worker-src 'self' blob:; "
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def frame_ancestors(settings: WebSettings) -> str:
    """Return the ``Content-Security-Policy`` value: which pages may frame the app."""
    if "*" in settings.allowed_origins:
        return "frame-ancestors *"
    sources = settings.allowed_origins or LOCALHOST_FRAME_SOURCES
    return "frame-ancestors " + " ".join(("'self'", *sources))


def content_security_policy(settings: WebSettings) -> str:
    """The whole ``Content-Security-Policy`` value, with ``{nonce}`` left for each response."""
    return CSP.replace("{frame_ancestors}", frame_ancestors(settings))


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether a ``Host`` value (``name[:port]``, ``[v6]:port``) names one of ``allowed``.

    ``allowed`` holds names, ``*`` (any) or ``*.example.org`` (its subdomains, not itself).
    """
    if "*" in allowed:
        return True
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else ""
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".")
    if not name:
        return False
    return name in allowed or any(
        pattern.startswith("*.") and name.endswith(pattern[1:]) for pattern in allowed
    )


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


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Return the user name and password of an HTTP Basic ``Authorization`` header, or ``None``."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def basic_password(header: str | None) -> str | None:
    """Return the password of an HTTP Basic ``Authorization`` header (any user), or ``None``."""
    credentials = basic_credentials(header)
    return credentials[1] if credentials else None


def staff_name(header: str | None) -> str:
    """Who signs a staff action: the Basic user name of ``header``, else ``staff``.

    With no staff password set, any name a client sends is taken at its word: it says who acted,
    it grants nothing.
    """
    credentials = basic_credentials(header)
    return credentials[0].strip() if credentials and credentials[0].strip() else "staff"


def password_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no expected password means the staff view is open."""
    if not expected:
        return True
    if given is None:
        return False
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class SecurityHeaders:
    """Adds the ``Content-Security-Policy`` (a fresh nonce each response), ``nosniff``, the referrer policy.

    The nonce is left in the scope (:data:`NONCE`) for :class:`qa.web.gradio.FrenchPage`,
    which puts it on the page's inline scripts.
    """

    def __init__(self, app: ASGIApp, policy: str, frame_ancestors: str) -> None:
        """Wrap ``app``: ``policy`` (``{nonce}`` in it) on documents, ``frame_ancestors`` elsewhere."""
        self.app = app
        self.policy = policy
        self.framing = (b"content-security-policy", frame_ancestors.encode("latin-1"))
        self.extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        self.names = {name for name, _ in self.extra} | {b"x-frame-options", b"content-security-policy"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, amending the response headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        policy = (b"content-security-policy", self.policy.replace("{nonce}", nonce).encode("latin-1"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"text/html")
                document = kind.split(b";")[0].strip().lower() in DOCUMENTS
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                message["headers"] = [*kept, policy if document else self.framing, *self.extra]
            await send(message)

        await self.app({**scope, NONCE: nonce}, receive, send_with_headers)


class AllowedHosts:
    """Refuses (400, French) a ``Host`` or ``X-Forwarded-Host`` that names none of the allowed hosts.

    Gradio builds the page's ``root`` (in ``/config`` and the page) from these headers: a request
    for ``Host: evil.example`` must not get ``"root": "http://evil.example"`` back. The refusal
    does not repeat the host. A request without ``Host`` (HTTP/1.0) is served on the address the
    server listens on. With a ``public_url`` (``QA_PUBLIC_URL``), every request the app serves
    reads as made to it (its scheme and host), whatever name or proxy it came through.
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str], public_url: str | None = None) -> None:
        """Wrap ``app``; ``hosts`` as :meth:`qa.web.config.WebSettings.hosts`."""
        self.app = app
        self.hosts = hosts
        parts = urlsplit(public_url) if public_url else None
        self.public = (parts.scheme, parts.netloc.encode("idna")) if parts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass requests for an allowed host; refuse the others."""
        if scope["type"] in ("http", "websocket"):
            for name, value in scope.get("headers", []):
                if name in (b"host", b"x-forwarded-host"):
                    names = value.decode("latin-1").split(",")
                    if not all(host_allowed(host, self.hosts) for host in names):
                        await Refusal(400, BAD_HOST).answer(scope, receive, send)
                        return
            if self.public is not None:
                scheme, netloc = self.public
                kept = [(k, v) for k, v in scope["headers"] if k not in (b"host", b"x-forwarded-host")]
                kind = scheme if scope["type"] == "http" else scheme.replace("http", "ws")
                scope = {**scope, "scheme": kind, "headers": [(b"host", netloc), *kept]}
        await self.app(scope, receive, send)


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
