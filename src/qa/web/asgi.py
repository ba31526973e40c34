r"""An app factory for ASGI servers that run several worker processes.

    uvicorn --factory qa.web.asgi:create_app --workers 2 --host 127.0.0.1 --port 7860 \
        --http qa.web.timeouts:H11WithTimeouts --no-proxy-headers --limit-concurrency 1000 \
        --timeout-keep-alive 5

Each worker calls :func:`create_app` once: it loads its own engine (model and index, about 1 GB)
and builds the same app as ``python app.py``, configured by the same ``QA_*`` and ``GRADIO_*``
variables, with the same one-line logging. The flags give it the limits that ``python app.py``
sets itself: the header deadline for slow clients (``QA_HEADER_TIMEOUT``), forwarded headers
read (and checked) by the app rather than by uvicorn, the connection cap and keep-alive.
``POST /api/ask`` keeps nothing between requests, so any worker (or any machine behind a load
balancer) can answer any request. Build the index first (``qa index``): workers that find
it stale would each rebuild it.
"""

from __future__ import annotations

import os
import socket
from asyncio import base_events

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before anything imports gradio

from fastapi import FastAPI  # noqa: E402


def nodelay_on_inherited_sockets() -> None:
    """Turn Nagle off on every accepted TCP connection, as asyncio means to.

    ``uvicorn --workers`` (and gunicorn's uvicorn worker) hand the workers a listening socket
    whose ``proto`` is 0; asyncio enables ``TCP_NODELAY`` only when it reads ``IPPROTO_TCP``
    there, so each keep-alive response waited ~40 ms for the client's delayed ACK (measured
    by ``qa bench --workers 2``: 92 ms against 44 ms for one client; uvicorn issue #3149).
    """

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    base_events._set_nodelay = set_nodelay


def create_app() -> FastAPI:
    """Load the engine from ``QA_*`` settings and build the whole web app around it."""
    nodelay_on_inherited_sockets()
    import logging.config

    from qa.engine import Engine, Settings
    from qa.web.config import WebSettings
    from qa.web.logs import log_config, route_gradio_output
    from qa.web.server import create_app as assemble

    logging.config.dictConfig(log_config())
    route_gradio_output()
    settings = WebSettings.from_env()
    return assemble(Engine.load(Settings.from_env()), settings)
