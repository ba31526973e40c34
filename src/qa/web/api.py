"""Plain HTTP routes beside the Gradio app: ``POST /api/ask``, ``/healthz``, articles, CSV export.

The staff's verification routes (``/staff/api/verifications``) are in :mod:`qa.web.verification_api`.

Every error is a :class:`qa.web.errors.Refusal`, a JSON object ``{"error": "<French message>",
"detail": …}`` with a 4xx status: a client mistake never shows up as a 5xx. Only an overloaded
server answers 503 (busy) or 504 (too slow). The rate limit is applied before these routes
(:class:`qa.web.limits.RateLimit`).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

import gradio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from qa.answer import Status
from qa.web.errors import Refusal, cut, error_response, unknown_article
from qa.web.export import NEWSROOM_ZONE, french_csv
from qa.web.history import bound_history
from qa.web.schemas import AskBody, read_json
from qa.web.service import Assistant
from qa.web.verification_api import verification_routes

WEB_COMPONENT = Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"
STATUSES = tuple(status.value for status in Status)


async def read_request(request: Request, read_timeout: float) -> AskBody:
    """Read the body of ``POST /api/ask``: ``{"question", "history"?, "article"?}`` (:func:`read_json`)."""
    return await read_json(request, read_timeout, AskBody)


def build_router(assistant: Assistant, read_timeout: float = 30, zone: tzinfo = NEWSROOM_ZONE) -> APIRouter:
    """Build the routes for ``assistant``; a body must arrive within ``read_timeout`` seconds."""
    router = APIRouter()
    _ask_route(router, assistant, read_timeout)
    _info_routes(router, assistant)
    _staff_routes(router, assistant, zone)
    verification_routes(router, assistant, read_timeout)
    return router


def _ask_route(router: APIRouter, assistant: Assistant, read_timeout: float) -> None:
    @router.post("/api/ask")
    async def ask(request: Request) -> Response:
        """Answer ``{"question": "...", "history"?: [...], "article"?: "id"}`` with the JSON contract.

        ``history`` is cut to the last questions the engine reads, each to its longest question.
        """
        try:
            asked = await read_request(request, read_timeout)
            if asked.article is not None and asked.article not in assistant.articles:
                raise Refusal(404, str(unknown_article(asked.article, assistant.articles)))
            earlier = bound_history(asked.history or [], assistant.max_history, assistant.max_question_chars)
            answer, _ = await assistant.ask_async(asked.question, earlier, asked.article)
        except Refusal as refused:  # 4xx, or 503/504 from the gate
            return refused.response()
        return JSONResponse(answer.to_dict())


def _info_routes(router: APIRouter, assistant: Assistant) -> None:
    @router.get("/healthz")
    def healthz() -> dict:
        """Report index, model, article count, and whether feedback is stored."""
        return assistant.health()

    @router.get("/api/articles/{article_id}")
    def article(article_id: str) -> Response:
        """Return an article's metadata, source text and sections (offsets index ``source``)."""
        found = assistant.articles.get(article_id)
        if found is None:
            return error_response(404, str(unknown_article(article_id)))
        sections = [
            {"title": s.title, "kind": s.kind, "start": s.start, "end": s.end} for s in found.sections
        ]
        return JSONResponse(
            {
                "id": found.id,
                "title": found.title,
                "author": found.author,
                "date": found.date,
                "published": found.published,
                "credit": found.credit,
                "source": found.source,
                "sections": sections,
            }
        )

    @router.get("/gradio.js")
    def web_component() -> Response:
        """Serve Gradio's web-component loader from the app itself (no CDN)."""
        return FileResponse(WEB_COMPONENT, media_type="text/javascript")


def _staff_routes(router: APIRouter, assistant: Assistant, zone: tzinfo) -> None:
    @router.get("/staff/export.csv")
    def export(status: str | None = None) -> Response:
        """Download the log as CSV for a French spreadsheet, one status only if asked (/staff's guard)."""
        if status and status not in STATUSES:
            return error_response(422, f"Statut inconnu : {cut(status)} (attendu : {', '.join(STATUSES)}).")
        if assistant.store is None:
            return error_response(409, "Journal indisponible : retours désactivés.")
        csv_text = french_csv(assistant.store.questions(status or None, limit=1_000_000), zone)
        name = f"questions-{status}.csv" if status else "questions.csv"
        return Response(
            csv_text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
