"""Settings of the web layer, read from the environment (and overridden by command-line flags)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_FEEDBACK_DB = Path("data/feedback.sqlite3")
DEFAULT_RATE_LIMIT = 60  # questions and votes per minute and client, all endpoints together
DEFAULT_CONCURRENCY = 4  # engine calls at once per endpoint (each encodes on one thread)
DEFAULT_QUEUE_SIZE = 64  # requests waiting for the engine before "busy" (503)
DEFAULT_REQUEST_TIMEOUT = 30  # seconds to read a question and answer it on the API endpoints
DEFAULT_MAX_CONNECTIONS = 1000  # open connections (each browser tab holds one) before uvicorn's 503
DEFAULT_HEADER_TIMEOUT = 5  # seconds for a request line and its headers, then the socket is closed
DEFAULT_MAX_SESSIONS = 1000  # Gradio sessions kept in memory per page (the oldest are forgotten)


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
    rate_limit: int = DEFAULT_RATE_LIMIT
    concurrency: int = DEFAULT_CONCURRENCY
    queue_size: int = DEFAULT_QUEUE_SIZE
    request_timeout: int = DEFAULT_REQUEST_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    header_timeout: int = DEFAULT_HEADER_TIMEOUT
    max_sessions: int = DEFAULT_MAX_SESSIONS

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> WebSettings:
        """Read the settings from the environment; ``host``/``port`` (flags) win over it.

        Variables: ``GRADIO_SERVER_NAME``, ``GRADIO_SERVER_PORT``, ``QA_ALLOWED_ORIGINS``,
        ``QA_STAFF_PASSWORD``, ``QA_FEEDBACK_DB``, ``QA_RATE_LIMIT``, ``QA_CONCURRENCY``,
        ``QA_QUEUE_SIZE``, ``QA_REQUEST_TIMEOUT``, ``QA_MAX_CONNECTIONS``, ``QA_HEADER_TIMEOUT``
        and ``QA_MAX_SESSIONS``.

        Raises:
            ValueError: for a port or limit that is not a positive integer, or an origin
                that is not ``http(s)://host[:port]``.

        """
        env = os.environ if environ is None else environ
        return cls(
            host=host or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
            port=port if port is not None else _positive(env, "GRADIO_SERVER_PORT", DEFAULT_PORT),
            allowed_origins=parse_origins(env.get("QA_ALLOWED_ORIGINS", "")),
            staff_password=env.get("QA_STAFF_PASSWORD") or None,
            feedback_db=Path(env.get("QA_FEEDBACK_DB") or DEFAULT_FEEDBACK_DB),
            rate_limit=_positive(env, "QA_RATE_LIMIT", DEFAULT_RATE_LIMIT),
            concurrency=_positive(env, "QA_CONCURRENCY", DEFAULT_CONCURRENCY),
            queue_size=_positive(env, "QA_QUEUE_SIZE", DEFAULT_QUEUE_SIZE),
            request_timeout=_positive(env, "QA_REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT),
            max_connections=_positive(env, "QA_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            header_timeout=_positive(env, "QA_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT),
            max_sessions=_positive(env, "QA_MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name} doit être un entier positif (reçu : {raw!r})")
    return int(raw)


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
