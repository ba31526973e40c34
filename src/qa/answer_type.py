"""Expected answer types: "when", "how long", "how much" or "how many" need a matching fact.

A question asking for a date or duration, a price or a quantity needs a passage that holds one.

This is the answer-type check of classic question answering. It catches questions on the
article's topic that ask for a fact the article does not give ("Quand sera-t-il disponible ?",
"Combien coûte … ?"): the nearest passage is on topic, but has no date, price or number in it, so
showing it as an answer would mislead. Names are not checked: a name may be any word
("ferroptose"), so no test on the passage can tell whether it holds one.
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


# Checked in this order: "combien coûte" is a price before it is a quantity. "quand" and "when"
# ask for a date only where they open or close the question ("Quand sortira-t-il ?", "C'est pour
# quand ?", "When did it start?"); inside it, or opening a clause ("Quand la molécule manque, que
# deviennent-ils ?", "When cells die, does…"), they are conjunctions.
_QUESTION_CUES = (
    (AnswerType.PRICE, r"\b(combien (?:ca )?(?:coute|coutent|vaut|valent)"
                       r"|quel (?:est le )?(?:prix|cout|tarif)|prix|tarif"
                       r"|how much (?:does|do|is|are)\b.*\b(?:cost|price)|what does .* cost)\b"),
    (AnswerType.DATE, r"(^\W*(?:et |mais )?quand\b[^,]*$|\bquand\W*$|\b(?:depuis|jusqu'a|a partir de) quand\b"
                      r"|^\W*when (?:did|does|do|is|was|were|will|can|could|are|has|have|should|would)\b"
                      r"|\b(?:a quelle date|quelle date|en quelle annee|quelle annee|combien de temps"
                      r"|quelle duree|pendant combien|what year|what date|how long)\b)"),
    (AnswerType.QUANTITY, r"\b(combien|quel nombre|quelle proportion|quel pourcentage|quel taux|taux"
                          r"|how many|how much|what percentage|what proportion)\b"),
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
    AnswerType.PRICE: re.compile(r"(€|\$|\b(euros?|dollars?|gratuite?|remboursee?|prix|cout)\b)"),
    AnswerType.QUANTITY: re.compile(rf"(\d|%|\b({_NUMBER_WORDS})\b)"),
}


def expected_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, if it asks for a date, a price or a quantity."""
    text = fold(question)
    for kind, pattern in _QUESTION_PATTERNS:
        if pattern.search(text):
            return kind
    return None


def has_evidence(kind: AnswerType, passage: str) -> bool:
    """Whether ``passage`` holds something of the expected kind."""
    return bool(_EVIDENCE[kind].search(fold(passage)))
