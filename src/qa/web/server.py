"""Assemble the web app (routes, Gradio pages, middleware) and serve it with uvicorn."""

from __future__ import annotations

import argparse
import copy
import logging
import logging.config
import sys

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from qa.feedback import FeedbackStore
from qa.web.api import build_router
from qa.web.assets import CITATION_SCRIPT, CSS, SYSTEM_FONTS, SYSTEM_MONO_FONTS, head_html
from qa.web.config import WebSettings
from qa.web.limits import ClosedRoutes, Gate, GradioBodies, RateLimit
from qa.web.middleware import FrenchPage, SecurityHeaders, StaffAuth
from qa.web.security import RateLimiter, cors_options, frame_ancestors
from qa.web.service import Assistant, Engine
from qa.web.staff import build_staff
from qa.web.ui import PAGE_TITLE, build_public

log = logging.getLogger(__name__)
# Gradio's French catalogue lacks these two strings of the chat's copy button.
MISSING_FRENCH = {"chatbot.copy_message": "Copier le message",
                  "chatbot.copied_message": "Message copié"}


def make_theme() -> gr.themes.Base:
    """Gradio's default theme on system fonts, with darker blues for readable contrast."""
    theme = gr.themes.Default(primary_hue="blue", secondary_hue="blue", neutral_hue="zinc",
                              font=list(SYSTEM_FONTS), font_mono=list(SYSTEM_MONO_FONTS))
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
    store = FeedbackStore(settings.feedback_db)
    if not store.available:
        log.warning("retours désactivés : %s (%s)", store.problem, settings.feedback_db)
    gate = Gate(settings.concurrency, settings.queue_size, settings.request_timeout)
    assistant = Assistant(engine, store, gate)
    app = FastAPI(title="Questions sur l'article", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.assistant = assistant
    app.include_router(build_router(assistant, settings.request_timeout))
    # No uploads, no file serving beyond the page's assets, no monitoring, no MCP server.
    # No footer on either page: Gradio's API panel is English; the API is documented in docs/web.md.
    common = {"theme": make_theme(), "css": CSS, "run_history": False, "ssr_mode": False,
              "mcp_server": False, "enable_monitoring": False, "max_file_size": "1mb",
              "allowed_paths": [], "i18n": gr.I18n(fr=MISSING_FRENCH),
              "server_name": settings.host, "server_port": settings.port}
    staff = build_staff(assistant).queue(default_concurrency_limit=2, max_size=settings.queue_size)
    gr.mount_gradio_app(app, staff, path="/staff", footer_links=[], **common)
    public = build_public(assistant).queue(default_concurrency_limit=settings.concurrency,
                                           max_size=settings.queue_size)
    gr.mount_gradio_app(app, public, path="/", js=CITATION_SCRIPT, footer_links=[],
                        show_error=False, **common)
    # Added last is outermost: headers go on everything, the 401 of /staff included; CORS
    # headers on 404, 413 and 429 too, so that an embedding page can read them.
    app.add_middleware(GradioBodies, events={"": lambda: set(public.fns),
                                             "/staff": lambda: set(staff.fns)})
    app.add_middleware(ClosedRoutes)
    app.add_middleware(RateLimit, limiter=RateLimiter(settings.rate_limit))
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    app.add_middleware(FrenchPage, head=head_html(PAGE_TITLE))
    app.add_middleware(StaffAuth, password=settings.staff_password)
    app.add_middleware(SecurityHeaders, frame_ancestors=frame_ancestors(settings))
    return app


class OneLine(logging.Filter):
    """Escapes CR and LF in log messages, so that text from a request cannot forge a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Escape the message and its string arguments; always keep the record."""
        if isinstance(record.msg, str):
            record.msg = one_line(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(one_line(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: one_line(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def one_line(text: str) -> str:
    r"""Return ``text`` with CR and LF written as ``\r`` and ``\n`` (two characters each)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def log_config() -> dict:
    """Uvicorn's logging set-up, plus the app's own loggers, every handler behind :class:`OneLine`."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"one_line": {"()": OneLine}}
    config["formatters"]["app"] = {"()": "uvicorn.logging.DefaultFormatter",
                                   "fmt": "%(levelprefix)s %(name)s: %(message)s"}
    config["handlers"]["app"] = {"formatter": "app", "class": "logging.StreamHandler",
                                 "stream": "ext://sys.stderr"}
    for handler in config["handlers"].values():
        handler["filters"] = ["one_line"]
    config["root"] = {"handlers": ["app"], "level": "INFO"}
    return config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``--host`` and ``--port``; the environment gives the defaults."""
    parser = argparse.ArgumentParser(description="Assistant questions-réponses : application web.")
    parser.add_argument("--host",
                        help="adresse d'écoute (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the engine, build the app and serve it until interrupted.

    Returns 2, after one French line on stderr naming the problem, when the settings, the
    articles, the index or the model cannot be used (no traceback).
    """
    from qa.engine import Engine as RealEngine
    from qa.engine import Settings

    args = parse_args(argv)
    logging.config.dictConfig(log_config())
    try:
        settings = WebSettings.from_env(host=args.host, port=args.port)
        log.info("chargement du modèle et de l'index…")
        engine = RealEngine.load(Settings.from_env())
    except Exception as error:  # noqa: BLE001 - start-up: one readable line, whatever failed
        sys.stderr.write(f"qa-web : erreur au démarrage : {one_line(str(error)) or type(error).__name__}\n")
        return 2
    app = create_app(engine, settings)
    log.info("application prête sur http://%s:%s/", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", log_config=None,
                limit_concurrency=settings.max_connections, timeout_keep_alive=5,
                timeout_graceful_shutdown=10)
    return 0
