r"""An app factory for ASGI servers that run several worker processes.

    uvicorn --factory qa.web.asgi:create_app --workers 2 --host 127.0.0.1 --port 7860 \
        --http qa.web.timeouts:H11WithTimeouts --no-proxy-headers --limit-concurrency 1000 \
        --timeout-keep-alive 5

Each worker calls :func:`create_app` once: it loads its own engine (model and index, about 1 GB)
and builds the same app as ``python app.py``, configured by the same ``QA_*`` and ``GRADIO_*``
variables, with the same one-line logging. The flags give it the limits that ``python app.py``
sets itself: the header deadline for slow clients (``QA_HEADER_TIMEOUT``) and ``TCP_NODELAY``
on the listener the workers inherit (:mod:`qa.web.timeouts`), forwarded headers read (and
checked) by the app rather than by uvicorn, the connection cap and keep-alive.
``POST /api/ask`` keeps nothing between requests, so any worker (or any machine behind a load
balancer) can answer any request. Build the index first (``qa index``): workers that find
it stale would each rebuild it. Once running, each worker only reads the index folder: it takes
up the index a later ``qa index`` saves within ``QA_INDEX_CHECK`` seconds, or at once on
``SIGHUP`` sent to the worker (:mod:`qa.web.reload`; uvicorn's own process restarts its workers
on ``SIGHUP``).
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Load the engine from ``QA_*`` settings and build the whole web app around it."""
    import logging.config

    from qa.engine import Engine, Settings
    from qa.web.config import WebSettings
    from qa.web.gradio import route_gradio_output
    from qa.web.logs import log_config
    from qa.web.reload import watch_index
    from qa.web.server import create_app as assemble

    logging.config.dictConfig(log_config())
    route_gradio_output()
    settings = WebSettings.from_env()
    library = Settings.from_env()
    app = assemble(Engine.load(library), settings)
    watch_index(app, library, settings.index_check)  # a new index in service without a restart
    return app
