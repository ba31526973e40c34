"""The JSON bodies of the HTTP API as pydantic models, read by :func:`read_json`, and their French error.

A body is read by :func:`qa.web.limits.read_body` (size and time bounded) and decoded by
:func:`json.loads` (a lone surrogate survives, a too deep nesting is caught) before a model checks
it: FastAPI's own reading has neither bound. A body that does not fit its model is a 422 naming
the bad field in French (:func:`invalid_body`), never pydantic's English nor the value sent.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from qa.web.errors import Refusal, cut
from qa.web.gradio.routes import NOT_JSON_TYPE
from qa.web.history import NOT_QUESTIONS
from qa.web.limits import MAX_BODY_BYTES, read_body, too_large

Body = TypeVar("Body", bound=BaseModel)
NOT_AN_OBJECT = (
    'Corps invalide : un objet JSON est attendu, par exemple {"question": "Qui a écrit l\'article ?"}.'
)

MISSING_QUESTION = 'Champ « question » manquant : envoyez {"question": "…"}.'
POSITION = "Le champ « {} » doit être une position dans le texte de l'article (un nombre entier)."
FIELD_ERRORS = {
    "question": "Le champ « question » doit être une chaîne de caractères.",
    "history": NOT_QUESTIONS,
    "article": "Le champ « article » doit être l'identifiant d'un article (une chaîne).",
    "verdict": "Le champ « verdict » doit être une chaîne : « absent » (l'article ne le dit pas).",
    **{name: POSITION.format(name) for name in ("start", "end", "highlight_start", "highlight_end")},
}


class AskBody(BaseModel):
    """``POST /api/ask``: the question, the earlier questions (oldest first), the article to search.

    Strict: a question must be a string, not a number made one; unknown keys are ignored.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    question: str
    history: list[str] | None = None
    article: str | None = None


class VerificationBody(BaseModel):
    """``POST /staff/api/verifications``: a question (after ``history``) and its verified answer.

    Either a passage (``article``, ``start``, ``end``, optionally the sentence to mark,
    ``highlight_start`` and ``highlight_end``: offsets into the article's ``source``) or
    ``"verdict": "absent"`` (the article does not say it). Strict, as :class:`AskBody`; the
    library checks the rest (:func:`qa.verified.check_verification`).
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    question: str
    history: list[str] | None = None
    article: str | None = None
    start: int | None = None
    end: int | None = None
    highlight_start: int | None = None
    highlight_end: int | None = None
    verdict: str | None = None


def invalid_body(error: ValidationError) -> Refusal:
    """The 422 of a body that does not fit its model: its first bad field named, in French.

    A body that is no object, or one without ``question`` (the one required field), is told how
    to send one.
    """
    first = error.errors(include_url=False, include_input=False)[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if not field or first["type"] == "missing":
        return Refusal(422, MISSING_QUESTION)
    return Refusal(422, FIELD_ERRORS.get(field, f"Le champ « {cut(field)} » est invalide."))


def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` value is ``application/json`` (any parameters, any case)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


async def read_json(request: Request, read_timeout: float, model: type[Body]) -> Body:
    """Read a JSON body of at most :data:`MAX_BODY_BYTES` that fits ``model``.

    The body must arrive within ``read_timeout`` seconds.

    Raises:
        Refusal: 415 not declared as JSON, 413 too large, 408 too slow, 400 not JSON, 422 not an
            object that fits ``model`` (a string ``question``, a list of strings ``history``…).

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
        return model.model_validate(payload)
    except ValidationError as error:
        raise invalid_body(error) from None
