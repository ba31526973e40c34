"""Expected answer types: a question asking *when*, *how much* or *what name* needs a passage that
holds a date, a quantity, a price or a name.

This is the answer-type check of classic question answering. It catches questions on the
article's topic that ask for a fact the article does not give ("Quand sera-t-il disponible ?",
"Combien coûte … ?", "Quel est le nom du médicament ?"): the nearest passage is on topic, but has
no date, price or name in it, so showing it as an answer would mislead.
"""

from __future__ import annotations

import re
from enum import Enum

from qa.textnorm import fold


class AnswerType(str, Enum):
    """What kind of fact a question asks for."""

    DATE = "date ou durée"
    PRICE = "prix"
    QUANTITY = "quantité"
    NAME = "nom"


# Checked in this order: "combien coûte" is a price before it is a quantity.
_QUESTION_CUES = (
    (AnswerType.PRICE, r"\b(combien (?:ca |ça )?(?:coute|coutent|vaut|valent)|quel (?:est le )?(?:prix|cout|tarif)"
                       r"|prix|tarif|how much (?:does|do|is|are)\b.*\b(?:cost|price)|what does .* cost)\b"),
    (AnswerType.DATE, r"\b(quand|a quelle date|quelle date|en quelle annee|quelle annee|depuis quand"
                      r"|a partir de quand|combien de temps|quelle duree|pendant combien"
                      r"|when|what year|what date|how long)\b"),
    (AnswerType.QUANTITY, r"\b(combien|quel nombre|quelle proportion|quel pourcentage|quel taux|taux"
                          r"|how many|how much|what percentage|what proportion)\b"),
    (AnswerType.NAME, r"\b(quel est le nom|quels sont les noms|comment s'appelle|comment s'appellent"
                      r"|comment se nomme|what is the name|what's the name|what is it called)\b"),
)
_QUESTION_PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in _QUESTION_CUES]

_MONTHS = ("janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
           "|january|february|march|april|june|july|august|september|october|november|december")
_NUMBER_WORDS = ("deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|vingt|trente|quarante"
                 "|cinquante|cent|cents|mille|million|millions|milliard|milliards|moitie|tiers|quart"
                 "|majorite|minorite|plusieurs|dizaine|dizaines|centaine|centaines|pourcent")
_EVIDENCE = {
    AnswerType.DATE: re.compile(rf"\b(1[89]\d\d|20\d\d|{_MONTHS}|il y a \d+|hier|aujourd'hui"
                                r"|\d{1,2}/\d{1,2}|an|ans|annee|annees|mois|semaines?|jours?|heures?|min|minutes?)\b"),
    AnswerType.PRICE: re.compile(r"(€|\$|\b(euros?|dollars?|gratuit|gratuite|rembourse|remboursee|prix|cout)\b)"),
    AnswerType.QUANTITY: re.compile(rf"(\d|%|\b({_NUMBER_WORDS})\b)"),
}
_SENTENCE_START = re.compile(r"(?:^|[.!?…:]\s+|\n)\W*$")


def expected_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, if it asks for a date, price, quantity or name."""
    text = fold(question)
    for kind, pattern in _QUESTION_PATTERNS:
        if pattern.search(text):
            return kind
    return None


def _has_name(text: str) -> bool:
    """A capitalised word that does not start a sentence or line: a proper name or an acronym."""
    for match in re.finditer(r"\b[A-ZÀ-Ý][\w-]+", text):
        if not _SENTENCE_START.search(text[: match.start()]):
            return True
    return False


def has_evidence(kind: AnswerType, passage: str) -> bool:
    """Whether ``passage`` holds something of the expected kind."""
    if kind == AnswerType.NAME:
        return _has_name(passage)
    return bool(_EVIDENCE[kind].search(fold(passage)))
