"""The staff's JSON routes for verifications, under ``/staff/api/`` (HTTP Basic: :class:`StaffAuth`).

- ``POST /staff/api/verifications``: record one (:class:`qa.web.schemas.VerificationBody`) → 201;
- ``GET /staff/api/verifications``: all of them, newest first, withdrawn ones marked;
- ``POST /staff/api/verifications/{id}/withdraw`` → 200, 404 for an unknown id, 409 if withdrawn.

The author is the Basic-auth user name (``staff`` without one). A verification the library
refuses is a French 422; a store that cannot be written, a French 503. Like every POST of the
app, these must declare ``Content-Type: application/json`` (415 otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from qa.article import Article
from qa.verified import ABSENT, VerificationError
from qa.web.errors import Refusal, error_response
from qa.web.schemas import VerificationBody, read_json
from qa.web.security import staff_name
from qa.web.service import Assistant
from qa.web.verification_view import refusal
from qa.web.verifications import StoredVerification, Withdrawal

STORE_DOWN = "Vérifications indisponibles : le fichier du journal ne peut pas être écrit ni lu."
UNKNOWN = "Vérification inconnue : aucune ne porte le n° {}."
ALREADY = "La vérification n° {} est déjà retirée."


def verification_json(
    record: StoredVerification, articles: Mapping[str, Article], stale: frozenset[int]
) -> dict:
    """A stored verification as the API shows it (offsets index the article's ``source``).

    ``text`` is the chosen passage, ``None`` for "absent" and when the article has changed since
    (the offsets no longer point at what the editor chose); ``stale`` says the latter, for a
    verification in force.
    """
    v = record.verification
    article = articles.get(v.article) if v.article else None
    unchanged = article is not None and article.sha256 == v.checksum
    passage, marked = v.passage, v.highlight
    return {
        "id": v.id,
        "question": v.question,
        "context": v.context,
        "article": v.article,
        "start": passage.start if passage else None,
        "end": passage.end if passage else None,
        "highlight_start": marked.start if marked else None,
        "highlight_end": marked.end if marked else None,
        "verdict": ABSENT if v.absent else "passage",
        "author": v.author,
        "at": v.at,
        "withdrawn": {"at": record.withdrawn.at, "by": record.withdrawn.by} if record.withdrawn else None,
        "stale": record.in_force and v.id in stale,
        "text": article.source[passage.start : passage.end] if article and passage and unchanged else None,
    }


def verification_routes(router: APIRouter, assistant: Assistant, read_timeout: float) -> None:
    """Add the three routes to ``router``; a body must arrive within ``read_timeout`` seconds."""

    @router.post("/staff/api/verifications")
    async def add(request: Request) -> Response:
        """Record a verification: a question and a passage of an article, or ``"verdict": "absent"``."""
        try:
            body = await read_json(request, read_timeout, VerificationBody)
            author = staff_name(request.headers.get("authorization"))
            stored = await run_in_threadpool(_verify, assistant, body, author)
        except Refusal as refused:
            return refused.response()
        except VerificationError as error:
            return error_response(422, refusal(error))
        if stored is None:
            return error_response(503, STORE_DOWN)
        return JSONResponse(_shown(assistant, stored), status_code=201)

    @router.get("/staff/api/verifications")
    def listing() -> Response:
        """Every verification, newest first; ``withdrawn`` says when and by whom, if it was."""
        if assistant.verifications is None:
            return error_response(503, STORE_DOWN)
        assistant.refresh()
        return JSONResponse([_shown(assistant, r) for r in assistant.verification_records()])

    @router.post("/staff/api/verifications/{verification_id}/withdraw")
    def withdraw(verification_id: int, request: Request) -> Response:
        """Withdraw a verification: it stops applying; it stays in the list, marked withdrawn."""
        return _withdraw(assistant, verification_id, staff_name(request.headers.get("authorization")))


def _shown(assistant: Assistant, record: StoredVerification) -> dict:
    return verification_json(record, assistant.articles, assistant.stale)


def _withdraw(assistant: Assistant, verification_id: int, author: str) -> Response:
    """The response to a withdrawal: the verification, now withdrawn, or why it was not."""
    outcome = assistant.withdraw(verification_id, author)
    if outcome is Withdrawal.UNKNOWN:
        return error_response(404, UNKNOWN.format(verification_id))
    if outcome is Withdrawal.ALREADY:
        return error_response(409, ALREADY.format(verification_id))
    record = assistant.verifications.get(verification_id) if assistant.verifications else None
    if outcome is Withdrawal.FAILED or record is None:
        return error_response(503, STORE_DOWN)
    return JSONResponse(_shown(assistant, record))


def _verify(assistant: Assistant, body: VerificationBody, author: str) -> StoredVerification | None:
    """:meth:`Assistant.verify` with a request's body (in a worker thread: it encodes questions)."""
    return assistant.verify(
        body.question,
        body.history or [],
        author=author,
        article=body.article,
        start=body.start,
        end=body.end,
        highlight_start=body.highlight_start,
        highlight_end=body.highlight_end,
        verdict=body.verdict,
    )
