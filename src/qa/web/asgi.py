"""An app factory for ASGI servers that run several worker processes.

    uvicorn --factory qa.web.asgi:create_app --workers 2 --host 127.0.0.1 --port 7860

Each worker calls :func:`create_app` once: it loads its own engine (model and index, about 1 GB)
and builds the same app as ``python app.py``, configured by the same ``QA_*`` and ``GRADIO_*``
variables. ``POST /api/ask`` keeps nothing between requests, so any worker (or any machine behind
a load balancer) can answer any request. Build the index first (``qa index``): workers that find
it stale would each rebuild it.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before anything imports gradio

from fastapi import FastAPI  # noqa: E402


def create_app() -> FastAPI:
    """Load the engine from ``QA_*`` settings and build the whole web app around it."""
    from qa.engine import Engine, Settings
    from qa.web.config import WebSettings
    from qa.web.server import create_app as assemble

    settings = WebSettings.from_env()
    return assemble(Engine.load(Settings.from_env()), settings)
