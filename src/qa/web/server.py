"""Assemble the web app (routes, Gradio pages, middleware) and serve it with uvicorn."""

from __future__ import annotations

import argparse
import logging

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from qa.feedback import FeedbackStore
from qa.web.api import build_router
from qa.web.assets import CITATION_SCRIPT, CSS, SYSTEM_FONTS, SYSTEM_MONO_FONTS, head_html
from qa.web.config import WebSettings
from qa.web.middleware import FrenchPage, SecurityHeaders, StaffAuth
from qa.web.security import cors_options, frame_ancestors
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
    assistant = Assistant(engine, store)
    app = FastAPI(title="Questions sur l'article", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.assistant = assistant
    app.include_router(build_router(assistant, settings.rate_limit))
    common = {"theme": make_theme(), "css": CSS, "run_history": False, "ssr_mode": False,
              "mcp_server": False, "max_file_size": "1mb", "i18n": gr.I18n(fr=MISSING_FRENCH),
              "server_name": settings.host, "server_port": settings.port}
    staff = build_staff(assistant).queue(default_concurrency_limit=2)
    gr.mount_gradio_app(app, staff, path="/staff", footer_links=[], **common)
    public = build_public(assistant).queue(default_concurrency_limit=4)
    gr.mount_gradio_app(app, public, path="/", js=CITATION_SCRIPT, footer_links=["api"],
                        show_error=False, **common)
    # Added last is outermost: headers go on everything, the 401 of /staff included.
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    app.add_middleware(FrenchPage, head=head_html(PAGE_TITLE))
    app.add_middleware(StaffAuth, password=settings.staff_password)
    app.add_middleware(SecurityHeaders, frame_ancestors=frame_ancestors(settings))
    return app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``--host`` and ``--port``; the environment gives the defaults."""
    parser = argparse.ArgumentParser(description="Assistant questions-réponses : application web.")
    parser.add_argument("--host",
                        help="adresse d'écoute (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the engine, build the app and serve it until interrupted."""
    from qa.engine import Engine as RealEngine
    from qa.engine import Settings

    args = parse_args(argv)
    settings = WebSettings.from_env(host=args.host, port=args.port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log.info("chargement du modèle et de l'index…")
    engine = RealEngine.load(Settings.from_env())
    app = create_app(engine, settings)
    log.info("application prête sur http://%s:%s/", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0
