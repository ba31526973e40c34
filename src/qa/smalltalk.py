"""Greetings, thanks and farewells: answered with a short friendly French reply, not a search."""

from __future__ import annotations

import re

from qa.textnorm import fold

_REPLIES = (
    (
        r"(bonjour|bonsoir|salut|coucou|hello|hi|hey|bonne journee|yo)",
        "Bonjour ! Posez-moi une question sur l'article, je vous réponds avec ses propres mots.",
    ),
    (
        r"(merci( beaucoup| bien)?|thanks?( you)?|thx|super merci|parfait merci|top merci)",
        "Avec plaisir ! Avez-vous une autre question sur l'article ?",
    ),
    (r"(au revoir|bye|a bientot|a plus|bonne soiree|ciao|adieu)", "Au revoir, et merci de votre visite !"),
    (
        r"(ca va|comment ca va|comment vas tu|comment allez vous|how are you)",
        "Très bien, merci ! Que voulez-vous savoir sur l'article ?",
    ),
    (
        r"(qui es tu|qui etes vous|tu es qui|t es qui|what are you|who are you)",
        "Je suis un assistant qui répond aux questions sur cet article en citant ses passages, "
        "sans rien inventer.",
    ),
)
_PATTERNS = [(re.compile(rf"^(?:{p})(?: (?:{p}))*$"), reply) for p, reply in _REPLIES]


def smalltalk_reply(question: str) -> str | None:
    """The reply when ``question`` is only a greeting, thanks, farewell or the like; else ``None``."""
    text = " ".join(re.findall(r"[a-z0-9]+", fold(question)))
    for pattern, reply in _PATTERNS:
        if pattern.match(text):
            return reply
    return None
