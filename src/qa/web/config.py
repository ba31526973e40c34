"""Settings of the web layer, read from the environment (and overridden by command-line flags).

The one module of the web layer that touches the environment: :meth:`WebSettings.from_env` reads
it, when called; :func:`quiet_gradio` writes Gradio's telemetry settings, before Gradio is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_FEEDBACK_DB = Path("data/feedback.sqlite3")  # QA_FEEDBACK_DB: the SQLite file when no QA_DATABASE_URL
DEFAULT_RATE_LIMIT_STORAGE = "memory://"  # each process counts alone; redis://host:port/db shares the counts
DEFAULT_INDEX_CHECK = 2  # seconds between two looks at the index's manifest (a new index is picked up)
DEFAULT_RATE_LIMIT = 60  # questions and votes per minute and client, all endpoints together
DEFAULT_CONCURRENCY = 4  # engine calls at once per endpoint (each encodes on one thread)
DEFAULT_QUEUE_SIZE = 64  # requests waiting for the engine before "busy" (503)
DEFAULT_REQUEST_TIMEOUT = 30  # seconds to read a question and answer it on the API endpoints
DEFAULT_MAX_CONNECTIONS = 1000  # open connections (each browser tab holds one) before uvicorn's 503
DEFAULT_HEADER_TIMEOUT = 5  # seconds for a request line and its headers, then the socket is closed
DEFAULT_MAX_SESSIONS = 1000  # Gradio sessions kept in memory per page (the oldest are forgotten)
DEFAULT_BODY_TIMEOUT = 10  # seconds to receive a whole request body (408 after)
DEFAULT_HEARTBEAT_GRACE = 10  # seconds a page's heartbeat waits for its session's first event (404 after)
DEFAULT_MAX_CLIENT_CONNECTIONS = 100  # connections, and requests in progress, per client address
DEFAULT_MAX_CLIENT_STREAMS = 50  # event streams (heartbeat, queue/data, call results) per client
DEFAULT_TIMEZONE = "Europe/Paris"  # times of the staff log and its CSV (stored in UTC)
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"  # proxies whose X-Forwarded-* are believed (uvicorn's)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # a bind address that says nothing of the names visitors use
HOST_NAME = re.compile(r"(?:\*\.)?(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}\.?|[0-9a-f:.]{2,45}")


@dataclass(frozen=True)
class WebSettings:
    """Where the app listens, who may embed or call it, and where feedback goes.

    ``allowed_origins`` empty means the default: the app's own origin plus any
    ``http(s)://localhost`` or ``127.0.0.1`` origin. ``("*",)`` allows every origin.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allowed_origins: tuple[str, ...] = ()
    staff_password: str | None = None
    feedback_db: Path = DEFAULT_FEEDBACK_DB
    database_url: str | None = field(default=None, repr=False)  # QA_DATABASE_URL (a password: not shown)
    rate_limit_storage: str = DEFAULT_RATE_LIMIT_STORAGE
    index_check: int = DEFAULT_INDEX_CHECK
    rate_limit: int = DEFAULT_RATE_LIMIT
    concurrency: int = DEFAULT_CONCURRENCY
    queue_size: int = DEFAULT_QUEUE_SIZE
    request_timeout: int = DEFAULT_REQUEST_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    header_timeout: int = DEFAULT_HEADER_TIMEOUT
    max_sessions: int = DEFAULT_MAX_SESSIONS
    body_timeout: int = DEFAULT_BODY_TIMEOUT
    heartbeat_grace: int = DEFAULT_HEARTBEAT_GRACE
    max_client_connections: int = DEFAULT_MAX_CLIENT_CONNECTIONS
    max_client_streams: int = DEFAULT_MAX_CLIENT_STREAMS
    allowed_hosts: tuple[str, ...] = ()
    public_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    forwarded_allow_ips: str = DEFAULT_FORWARDED_ALLOW_IPS

    @property
    def store_url(self) -> str:
        """The question log's database: ``QA_DATABASE_URL``, else the SQLite file ``QA_FEEDBACK_DB``."""
        return self.database_url or f"sqlite:///{self.feedback_db}"

    @property
    def zone(self) -> ZoneInfo:
        """The time zone of :attr:`timezone` (checked by :meth:`from_env`)."""
        return ZoneInfo(self.timezone)

    def hosts(self) -> frozenset[str]:
        """The host names a request may carry in ``Host``: :func:`qa.web.security.host_allowed`.

        ``QA_ALLOWED_HOSTS`` (``*`` for any), the host of ``QA_PUBLIC_URL``, the loopback names
        and the address the app listens on (unless it is a wildcard such as ``0.0.0.0``).
        """
        hosts = {*LOOPBACK_HOSTS, *self.allowed_hosts}
        if self.host.lower() not in WILDCARD_HOSTS:
            hosts.add(self.host.lower().strip("[]"))
        if self.public_url:
            hosts.add((urlsplit(self.public_url).hostname or "").lower())
        return frozenset(hosts - {""})

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> WebSettings:
        """Read the settings from the environment; ``host``/``port`` (flags) win over it.

        Variables: ``GRADIO_SERVER_NAME``, ``GRADIO_SERVER_PORT``, ``QA_ALLOWED_ORIGINS``,
        ``QA_STAFF_PASSWORD``, ``QA_FEEDBACK_DB``, ``QA_DATABASE_URL``, ``QA_RATE_LIMIT``,
        ``QA_RATE_LIMIT_STORAGE``, ``QA_INDEX_CHECK``, ``QA_CONCURRENCY``,
        ``QA_QUEUE_SIZE``, ``QA_REQUEST_TIMEOUT``, ``QA_MAX_CONNECTIONS``, ``QA_HEADER_TIMEOUT``,
        ``QA_MAX_SESSIONS``, ``QA_BODY_TIMEOUT``, ``QA_HEARTBEAT_GRACE``, ``QA_MAX_CLIENT_CONNECTIONS``,
        ``QA_MAX_CLIENT_STREAMS``, ``QA_ALLOWED_HOSTS``, ``QA_PUBLIC_URL``, ``QA_TIMEZONE`` and
        uvicorn's ``FORWARDED_ALLOW_IPS`` (addresses, CIDR networks or ``*``; empty: no proxy).

        Raises:
            ValueError: for a port or limit that is not a positive integer, an origin or public
                URL that is not ``http(s)://host[:port]``, or a host that is not a host name.

        """
        env = os.environ if environ is None else environ
        return cls(
            host=host or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
            port=port if port is not None else _positive(env, "GRADIO_SERVER_PORT", DEFAULT_PORT),
            allowed_origins=parse_origins(env.get("QA_ALLOWED_ORIGINS", "")),
            staff_password=env.get("QA_STAFF_PASSWORD") or None,
            feedback_db=Path(env.get("QA_FEEDBACK_DB") or DEFAULT_FEEDBACK_DB),
            database_url=parse_database_url(env.get("QA_DATABASE_URL", "")),
            rate_limit_storage=parse_rate_limit_storage(env.get("QA_RATE_LIMIT_STORAGE", "")),
            index_check=_positive(env, "QA_INDEX_CHECK", DEFAULT_INDEX_CHECK),
            rate_limit=_positive(env, "QA_RATE_LIMIT", DEFAULT_RATE_LIMIT),
            concurrency=_positive(env, "QA_CONCURRENCY", DEFAULT_CONCURRENCY),
            queue_size=_positive(env, "QA_QUEUE_SIZE", DEFAULT_QUEUE_SIZE),
            request_timeout=_positive(env, "QA_REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT),
            max_connections=_positive(env, "QA_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            header_timeout=_positive(env, "QA_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT),
            max_sessions=_positive(env, "QA_MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
            body_timeout=_positive(env, "QA_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT),
            heartbeat_grace=_positive(env, "QA_HEARTBEAT_GRACE", DEFAULT_HEARTBEAT_GRACE),
            max_client_connections=_positive(
                env, "QA_MAX_CLIENT_CONNECTIONS", DEFAULT_MAX_CLIENT_CONNECTIONS
            ),
            max_client_streams=_positive(env, "QA_MAX_CLIENT_STREAMS", DEFAULT_MAX_CLIENT_STREAMS),
            allowed_hosts=parse_hosts(env.get("QA_ALLOWED_HOSTS", "")),
            public_url=parse_public_url(env.get("QA_PUBLIC_URL", "")),
            timezone=parse_timezone(env.get("QA_TIMEZONE", "")),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS),
        )


def quiet_gradio(environ: MutableMapping[str, str] | None = None) -> None:
    """Turn Gradio's telemetry off and shrink its queue's statistics; call it before importing Gradio.

    The app must work, and stay quiet, on a machine with no internet. Gradio's queue also keeps
    per-event statistics for its monitoring page (off here): by default the last 10,000 events,
    with a pandas summary of them recomputed after every event, wasted time under load. A value
    the caller set for the last two is kept. ``import qa.web`` calls it, before any module of the
    web layer imports Gradio.
    """
    env = os.environ if environ is None else environ
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
    env.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name} doit être un entier positif (reçu : {raw!r})")
    return int(raw)


def parse_database_url(raw: str) -> str | None:
    """``QA_DATABASE_URL``: ``sqlite:///path`` or ``postgresql://user:pass@host:port/db``; ``None`` if empty.

    ``postgresql://`` is read with psycopg 3 (``postgresql+psycopg://``).

    Raises:
        ValueError: for another scheme, or a PostgreSQL URL without a host or a database.

    """
    raw = raw.strip()
    if not raw:
        return None
    scheme, _, rest = raw.partition("://")
    if scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return raw
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        parts = urlsplit(raw)
        if parts.hostname and parts.path.strip("/"):
            return "postgresql+psycopg://" + rest
    shown = raw.split("@")[-1][:80]  # never the password
    raise ValueError(
        f"QA_DATABASE_URL : adresse invalide …{shown!r} "
        "(attendu : sqlite:///chemin/fichier.sqlite3 ou postgresql://utilisateur:motdepasse@hote:port/base)"
    )


def parse_rate_limit_storage(raw: str) -> str:
    """``QA_RATE_LIMIT_STORAGE``: ``memory://`` (default) or ``redis://host:port/db``.

    Raises:
        ValueError: for another scheme, or a Redis URL without a host.

    """
    raw = raw.strip() or DEFAULT_RATE_LIMIT_STORAGE
    if raw == DEFAULT_RATE_LIMIT_STORAGE:
        return raw
    parts = urlsplit(raw)
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        return raw
    shown = raw.split("@")[-1][:80]
    raise ValueError(
        f"QA_RATE_LIMIT_STORAGE : adresse invalide …{shown!r} (attendu : memory:// ou redis://hote:port/0)"
    )


def parse_origins(raw: str) -> tuple[str, ...]:
    """Split a comma-separated origin list, normalised as ``scheme://host[:port]``.

    Raises:
        ValueError: for an entry that is not an http(s) origin (a path or query is refused).

    """
    origins = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            origins.append(item)
            continue
        parts = urlsplit(item.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(
                f"QA_ALLOWED_ORIGINS : origine invalide {item!r} (attendu : https://hote[:port])"
            )
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(origins))


def parse_hosts(raw: str) -> tuple[str, ...]:
    """Split a comma-separated list of host names (``*``: any; ``*.example.org``: its subdomains).

    A port or a scheme given with a name is dropped (``example.org:8443`` is ``example.org``).

    Raises:
        ValueError: for an entry that is not a host name or an IP address.

    """
    hosts = []
    for item in (part.strip().lower() for part in raw.split(",")):
        if not item:
            continue
        if item != "*":
            item = (urlsplit(item if "//" in item else "//" + item).hostname or "").rstrip(".")
            if not HOST_NAME.fullmatch(item):
                raise ValueError(f"QA_ALLOWED_HOSTS : nom d'hôte invalide {item!r} (attendu : exemple.org)")
        hosts.append(item)
    return tuple(dict.fromkeys(hosts))


def parse_public_url(raw: str) -> str | None:
    """``QA_PUBLIC_URL``: the address visitors use (``https://host[:port]``), or ``None``.

    Raises:
        ValueError: for anything but an http(s) origin (a path, a query are refused).

    """
    raw = raw.strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"QA_PUBLIC_URL : adresse invalide {raw!r} (attendu : https://hote[:port])")
    return raw


def parse_timezone(raw: str) -> str:
    """``QA_TIMEZONE``: an IANA zone name (``Europe/Paris``, ``UTC``); empty means the default.

    Raises:
        ValueError: for a name the time-zone database does not know.

    """
    name = raw.strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"QA_TIMEZONE : fuseau horaire inconnu {name[:80]!r} (attendu : Europe/Paris, UTC…)"
        ) from None
    return name
