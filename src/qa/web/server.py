"""Assemble the web app (routes, Gradio pages, middleware) and serve it with uvicorn."""

from __future__ import annotations

import argparse
import logging
import logging.config
import sys

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from qa.web.api import build_router
from qa.web.assets import CITATION_SCRIPT, CSS, SYSTEM_FONTS, SYSTEM_MONO_FONTS, head_html
from qa.web.config import WebSettings
from qa.web.feedback import FeedbackStore
from qa.web.gate import Gate
from qa.web.gradio import AllowedRoutes, FrenchPage, GradioBodies, route_gradio_output
from qa.web.limits import ClientSlots, RateLimit, RateLimiter
from qa.web.logs import OneLine, log_config, one_line
from qa.web.proxies import ForwardedHeaders, TrustedProxies
from qa.web.reload import watch_index
from qa.web.security import (
    AllowedHosts,
    SecurityHeaders,
    StaffAuth,
    content_security_policy,
    cors_options,
    frame_ancestors,
)
from qa.web.service import Assistant, Engine
from qa.web.staff import build_staff
from qa.web.timeouts import protocol_for
from qa.web.ui import PAGE_TITLE, build_public

__all__ = ["OneLine", "create_app", "log_config", "main", "one_line", "serve"]
log = logging.getLogger(__name__)
# Gradio's French catalogue lacks these two strings of the chat's copy button.
MISSING_FRENCH = {"chatbot.copy_message": "Copier le message", "chatbot.copied_message": "Message copié"}


def make_theme() -> gr.themes.Base:
    """Gradio's default theme on system fonts, with darker blues for readable contrast."""
    theme = gr.themes.Default(
        primary_hue="blue",
        secondary_hue="blue",
        neutral_hue="zinc",
        font=list(SYSTEM_FONTS),
        font_mono=list(SYSTEM_MONO_FONTS),
    )
    return theme.set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        link_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",  # neutral_400 on white is 2.6:1, below WCAG AA
        input_placeholder_color="*neutral_500",
    )


def create_app(engine: Engine, settings: WebSettings) -> FastAPI:
    """Build the whole app: JSON routes, staff Blocks at ``/staff``, public Blocks at ``/``."""
    store = FeedbackStore(settings.store_url)
    if not store.available:
        log.warning("retours désactivés : %s (%s)", store.problem, store.shown_url)
    gate = Gate(settings.concurrency, settings.queue_size, settings.request_timeout)
    # one count: the JSON routes and Gradio's events; in Redis, shared by every process
    limiter = RateLimiter(settings.rate_limit, storage=settings.rate_limit_storage)
    assistant = Assistant(engine, store, gate, limiter)
    app = FastAPI(title="Questions sur l'article", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.assistant = assistant
    body_timeout = min(settings.body_timeout, settings.request_timeout)
    app.include_router(build_router(assistant, body_timeout, settings.zone))
    # No uploads, no file serving beyond the page's assets, no monitoring, no MCP server.
    # No footer on either page: Gradio's API panel is English; the API is documented in docs/web.md.
    common = {
        "theme": make_theme(),
        "css": CSS,
        "run_history": False,
        "ssr_mode": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "max_file_size": "1mb",
        "allowed_paths": [],
        "i18n": gr.I18n(fr=MISSING_FRENCH),
        "server_name": settings.host,
        "server_port": settings.port,
    }
    staff = build_staff(assistant, settings.zone).queue(
        default_concurrency_limit=2, max_size=settings.queue_size
    )
    staff.state_session_capacity = settings.max_sessions
    gr.mount_gradio_app(app, staff, path="/staff", footer_links=[], **common)
    public = build_public(assistant).queue(
        default_concurrency_limit=settings.concurrency, max_size=settings.queue_size
    )
    public.state_session_capacity = settings.max_sessions
    gr.mount_gradio_app(
        app,
        public,
        path="/",
        js=CITATION_SCRIPT,
        footer_links=[],
        show_error=False,
        **common,
    )
    _guard(app, settings, {"": public, "/staff": staff}, assistant, limiter)
    return app


def _guard(
    app: FastAPI, settings: WebSettings, pages: dict, assistant: Assistant, limiter: RateLimiter
) -> None:
    """The middleware, innermost first (added last is outermost); docs/web.md lists each guard.

    Security headers go on everything, the 400 of a bad Host and the 401 of /staff included;
    CORS headers on 404, 413, 415 and 429 too, so that an embedding page can read them. A route
    is known (404), and a POST is JSON (415), before the rate limit counts it.
    """
    app.add_middleware(
        GradioBodies,
        pages=pages,
        read_timeout=min(settings.body_timeout, settings.request_timeout),
        max_chars=assistant.max_question_chars,
        limiter=limiter,
        max_history=assistant.max_history,
    )
    app.add_middleware(RateLimit, limiter=limiter)
    app.add_middleware(AllowedRoutes, pages=pages, grace=settings.heartbeat_grace)
    slots = {"connections": settings.max_client_connections, "streams": settings.max_client_streams}
    app.add_middleware(ClientSlots, **slots)
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    app.add_middleware(FrenchPage, head=head_html(PAGE_TITLE))
    app.add_middleware(StaffAuth, password=settings.staff_password)
    app.add_middleware(AllowedHosts, hosts=settings.hosts(), public_url=settings.public_url)
    csp = {"policy": content_security_policy(settings), "frame_ancestors": frame_ancestors(settings)}
    app.add_middleware(SecurityHeaders, **csp)
    app.add_middleware(ForwardedHeaders, trusted=TrustedProxies(settings.forwarded_allow_ips))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``--host`` and ``--port``; the environment gives the defaults."""
    parser = argparse.ArgumentParser(description="Assistant questions-réponses : application web.")
    parser.add_argument("--host", help="adresse d'écoute (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the engine, build the app and serve it until interrupted.

    Returns 2, after one French line on stderr naming the problem, when the settings, the
    articles, the index or the model cannot be used (no traceback).
    """
    from qa.engine import Engine as LibraryEngine  # web.service.Engine is the protocol it meets
    from qa.engine import Settings

    args = parse_args(argv)
    logging.config.dictConfig(log_config())
    try:
        settings = WebSettings.from_env(host=args.host, port=args.port)
        log.info("chargement du modèle et de l'index…")
        library = Settings.from_env()
        engine = LibraryEngine.load(library)
    except Exception as error:  # noqa: BLE001 - start-up: one readable line, whatever failed
        sys.stderr.write(f"qa-web : erreur au démarrage : {one_line(str(error)) or type(error).__name__}\n")
        return 2
    app = create_app(engine, settings)
    watch_index(app, library, settings.index_check)  # a new index in service without a restart
    serve(app, settings)
    return 0


def serve(app: FastAPI, settings: WebSettings) -> None:
    """Serve ``app`` with uvicorn until interrupted, with the limits and logging of the docs.

    Logging (one line a record, Gradio's tracebacks included) must be set up by the caller
    (``main`` does it before loading the engine).
    """
    route_gradio_output()
    log.info("application prête sur http://%s:%s/", settings.host, settings.port)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        http=protocol_for(settings),
        proxy_headers=False,
    )  # ForwardedHeaders reads them, checked
