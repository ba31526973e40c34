"""The JSON bodies of the HTTP API as pydantic models, and their one French error.

A body is read by :func:`qa.web.limits.read_body` (size and time bounded) and decoded by
:func:`json.loads` (a lone surrogate survives, a too deep nesting is caught) before a model checks
it: FastAPI's own reading has neither bound. A body that does not fit its model is a 422 naming
the bad field in French (:func:`invalid_body`), never pydantic's English nor the value sent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from qa.web.errors import Refusal, cut
from qa.web.history import NOT_QUESTIONS

MISSING_QUESTION = 'Champ « question » manquant : envoyez {"question": "…"}.'
FIELD_ERRORS = {
    "question": "Le champ « question » doit être une chaîne de caractères.",
    "history": NOT_QUESTIONS,
    "article": "Le champ « article » doit être l'identifiant d'un article (une chaîne).",
}


class AskBody(BaseModel):
    """``POST /api/ask``: the question, the earlier questions (oldest first), the article to search.

    Strict: a question must be a string, not a number made one; unknown keys are ignored.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    question: str
    history: list[str] | None = None
    article: str | None = None


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
