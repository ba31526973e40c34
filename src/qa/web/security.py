"""Who may embed or call the app, staff passwords and a per-client rate limit: plain policy code."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections import deque

from qa.web.config import WebSettings

LOCALHOST_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
# CSP host sources cannot name an IPv6 literal, so [::1] is left to CORS only.
LOCALHOST_FRAME_SOURCES = (
    "http://localhost:*", "http://127.0.0.1:*", "https://localhost:*", "https://127.0.0.1:*",
)
STAFF_REALM = "Espace equipe"  # ASCII: browsers show a realm with accents inconsistently


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


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds and key (a client address, in memory only)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10_000) -> None:
        """Allow ``limit`` hits per ``window`` seconds; forget all past ``max_keys`` clients."""
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count a hit for ``key``; ``False`` when it is over the limit (the hit is not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > self.max_keys:
                self._hits.clear()
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may be counted again (0 when it may now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 0.0
            return max(hits[0] + self.window - now, 0.0)
