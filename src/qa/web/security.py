"""Who may embed or call the app, staff passwords and a per-client rate limit: plain policy code."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
import threading
import time
from collections import OrderedDict, deque

from qa.web.config import WebSettings

LOCALHOST_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
# CSP host sources cannot name an IPv6 literal, so [::1] is left to CORS only.
LOCALHOST_FRAME_SOURCES = (
    "http://localhost:*",
    "http://127.0.0.1:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
)
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"  # uvicorn's default
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
        """Allow ``limit`` hits per ``window`` seconds and client; remember ``max_keys`` clients.

        Past ``max_keys``, clients with no hit left in the window are forgotten first, then
        those with the fewest hits (the least recently seen first), down to 90 %: a crowd of new
        addresses cannot reset the count of a client that reached its limit.
        """
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count a hit for ``key``; ``False`` when it is over the limit (the hit is not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._hits and len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits.setdefault(key, deque())
            self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _evict(self, now: float) -> None:
        """Forget expired clients, then the lightest ones, down to 90 % of ``max_keys``."""
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]
        excess = len(self._hits) - int(self.max_keys * 0.9)
        if excess > 0:  # sorted() is stable: among equals, the least recently seen go first
            for key in sorted(self._hits, key=lambda k: len(self._hits[k]))[:excess]:
                del self._hits[key]

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may be counted again (0 when it may now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 0.0
            return max(hits[0] + self.window - now, 0.0)


class TrustedProxies:
    """The addresses whose ``X-Forwarded-*`` headers are believed (uvicorn's ``FORWARDED_ALLOW_IPS``).

    ``spec`` is ``*`` (everyone) or a comma-separated list of addresses and networks; entries
    that are neither (a Unix socket path) are ignored.
    """

    def __init__(self, spec: str = DEFAULT_FORWARDED_ALLOW_IPS) -> None:
        """Parse ``spec``."""
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks = []
        for item in items:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue

    def __contains__(self, host: object) -> bool:
        """Whether ``host`` (an address as text) is trusted."""
        address = parse_address(host)
        if address is None:
            return False
        return self.everyone or any(address in network for network in self.networks)

    def client(self, forwarded_for: str) -> str | None:
        """The client address of an ``X-Forwarded-For`` value: the last hop not trusted.

        Returns ``None`` when a hop that must be read is not an IP address.
        """
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        for hop in reversed(hops):
            address = parse_address(_without_port(hop))
            if address is None:
                return None
            if str(address) not in self or hop is hops[0]:
                return str(address)
        return None


def parse_address(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, or ``None`` for anything else (a name, garbage, an empty string)."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _without_port(hop: str) -> str:
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def forwarded_allow_ips(environ: dict[str, str] | None = None) -> str:
    """``FORWARDED_ALLOW_IPS`` from the environment, with uvicorn's default."""
    env = os.environ if environ is None else environ
    return env.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
