"""Plain HTTP routes beside the Gradio app: ``POST /api/ask``, ``/healthz``, articles, CSV export.

Every error is a :class:`qa.web.errors.Refusal`, a JSON object ``{"error": "<French message>",
"detail": …}`` with a 4xx status: a client mistake never shows up as a 5xx. Only an overloaded
server answers 503 (busy) or 504 (too slow). The rate limit is applied before these routes
(:class:`qa.web.limits.RateLimit`).
"""

from __future__ import annotations

import json
from datetime import tzinfo
from pathlib import Path

import gradio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError

from qa.answer import Status
from qa.web.errors import Refusal, cut, error_response, unknown_article
from qa.web.export import NEWSROOM_ZONE, french_csv
from qa.web.gradio.routes import NOT_JSON_TYPE
from qa.web.history import bound_history
from qa.web.limits import MAX_BODY_BYTES, read_body, too_large
from qa.web.schemas import AskBody, invalid_body
from qa.web.service import Assistant

WEB_COMPONENT = Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"
STATUSES = tuple(status.value for status in Status)
NOT_AN_OBJECT = (
    'Corps invalide : un objet JSON est attendu, par exemple {"question": "Qui a écrit l\'article ?"}.'
)


def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` value is ``application/json`` (any parameters, any case)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


async def read_request(request: Request, read_timeout: float) -> AskBody:
    """Read a JSON body of at most :data:`MAX_BODY_BYTES`: ``{"question", "history"?, "article"?}``.

    The body must arrive within ``read_timeout`` seconds.

    Raises:
        Refusal: 415 not declared as JSON, 413 too large, 408 too slow, 400 not JSON, 422 not an
            object with a string ``question``, a list of strings ``history`` or a string ``article``.

    """
    if not is_json(request.headers.get("content-type", "")):
        # text/plain and forms are "simple" cross-site requests (no CORS preflight): refused.
        raise Refusal(415, NOT_JSON_TYPE)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large(MAX_BODY_BYTES)
    body = await read_body(request.receive, MAX_BODY_BYTES, read_timeout)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # RecursionError: [[[[…]]]]
        raise Refusal(400, NOT_AN_OBJECT) from err
    try:
        return AskBody.model_validate(payload)
    except ValidationError as error:
        raise invalid_body(error) from None


def build_router(assistant: Assistant, read_timeout: float = 30, zone: tzinfo = NEWSROOM_ZONE) -> APIRouter:
    """Build the routes for ``assistant``; a body must arrive within ``read_timeout`` seconds."""
    router = APIRouter()
    _ask_route(router, assistant, read_timeout)
    _info_routes(router, assistant)
    _staff_routes(router, assistant, zone)
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
