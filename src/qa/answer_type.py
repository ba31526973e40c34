"""Expected answer types: "when", "how much", "how many", "where" or "what name" need a matching fact.

A question asking for a date or duration, a price, a quantity, a place or a name needs a passage
that holds one.

This is the answer-type check of classic question answering. It catches questions on the
article's topic that ask for a fact the article does not give ("Quand sera-t-il disponible ?",
"Combien coûte … ?"): the nearest passage is on topic, but has no date, price or number in it, so
showing it as an answer would mislead. A place is a capitalised word after a locative preposition
("à Lyon"); a name, a proper noun or a term French usage does not know ("ferroptose").
"""

from __future__ import annotations

import re
from enum import Enum

from qa.settings import DecisionTuning
from qa.textnorm import fold, surface_forms, words
from qa.wordinfo import informativeness


class AnswerType(str, Enum):
    """What kind of fact a question asks for."""

    DATE = "date ou durée"
    PRICE = "prix"
    QUANTITY = "quantité"
    PLACE = "lieu"
    NAME = "nom"
    PERSON = "personne"
    ORGANISATION = "organisme"


# Checked in this order: "combien coûte" is a price before it is a quantity. "quand" and "when"
# ask for a date only where they open or close the question ("Quand sortira-t-il ?", "C'est pour
# quand ?", "When did it start?"); inside it, or opening a clause ("Quand la molécule manque, que
# deviennent-ils ?", "When cells die, does…"), they are conjunctions.
_QUESTION_CUES = (
    (
        AnswerType.PRICE,
        r"\b(combien (?:ca )?(?:coute|coutent|vaut|valent)"
        r"|quel (?:est le )?(?:prix|cout|tarif)|prix|tarif"
        r"|how much (?:does|do|is|are)\b.*\b(?:cost|price)|what does .* cost)\b",
    ),
    (
        AnswerType.DATE,
        r"(^\W*(?:et |mais )?quand\b[^,]*$|\bquand\W*$|\b(?:depuis|jusqu'a|a partir de) quand\b"
        r"|^\W*when (?:did|does|do|is|was|were|will|can|could|are|has|have|should|would)\b"
        r"|\b(?:a quelle date|quelle date|en quelle annee|quelle annee|combien de temps"
        r"|quelle duree|pendant combien|what year|what date|how long)\b)",
    ),
    (
        AnswerType.QUANTITY,
        r"\b(combien|quel nombre|quelle proportion|quel pourcentage|quel taux|taux"
        r"|how many|how much|what percentage|what proportion)\b",
    ),
)
_NAMED_CUES = (
    (
        AnswerType.PLACE,
        r"(^\W*ou (?:se trouve|se situe|est situe|est situee|sont situes|a lieu)\b"
        r"|\bdans quel(?:le)? (?:ville|pays|hopital|region|lieu|endroit|institut)\b"
        r"|^\W*where (?:is|are|was|were|can|do|does)\b)",
    ),
    (
        AnswerType.NAME,
        r"\b(quel est le nom|quel nom|comment (?:s'appelle|se nomme|appelle-t-on)"
        r"|what is the name|what is it called)\b",
    ),
)
_QUESTION_CUES = (*_QUESTION_CUES, *_NAMED_CUES)
_QUESTION_PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in _QUESTION_CUES]
# Weaker cues, read by the learned decision as one signal among others, never as a rule: "Qui … ?"
# often asks for a name ("Qui l'a découverte ?"), but not always ("Qui peut en bénéficier ?").
_SOFT_CUES = (
    (
        AnswerType.ORGANISATION,
        r"\bquel(?:le)?s? (?:hopital|hopitaux|laboratoire|universite|entreprise|societe|institut"
        r"|organisme|equipe|centre|unite|groupe|firme|marque|journal|parti|club)s?\b",
    ),
    (
        AnswerType.PERSON,
        r"(^\W*(?:et |mais )?(?:qui|par qui|a qui|avec qui|de qui|pour qui)\b"
        r"|\bquel(?:le)?s? (?:chercheur|chercheuse|scientifique|medecin|auteur|personne|homme|femme"
        r"|roi|reine|president|presidente|ministre|artiste|ecrivain|joueur|joueuse)s?\b"
        r"|^\W*who\b)",
    ),
)
_SOFT_PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in _SOFT_CUES]

_MONTHS = (
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    "|january|february|march|april|june|july|august|september|october|november|december"
)
_NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|vingt|trente|quarante"
    "|cinquante|cent|cents|mille|million|millions|milliard|milliards|moitie|tiers|quart"
    "|majorite|minorite|plusieurs|dizaine|dizaines|centaine|centaines|pourcent"
)
_EVIDENCE = {
    AnswerType.DATE: re.compile(
        rf"\b(1\d\d\d|20\d\d|{_MONTHS}|il y a \d+|hier|aujourd'hui|[ivx]+e siecles?|siecles?"
        r"|\d{1,2}/\d{1,2}|an|ans|annee|annees|mois|semaines?|jours?|heures?|min|minutes?)\b"
    ),
    AnswerType.PRICE: re.compile(r"(€|\$|\b(euros?|dollars?|gratuite?|remboursee?|prix|cout)\b)"),
    # a number, not a digit inside a name ("indole-3-carbinol", "T-DXd")
    AnswerType.QUANTITY: re.compile(rf"((?<![\w-])\d+(?:[.,]\d+)?(?![\w-])|%|\b({_NUMBER_WORDS})\b)"),
}
# A proper name: a capitalised word that does not open a sentence, or a code such as "T-DXd".
_CAPITALISED = r"[A-ZÀ-Ý][\w-]*[a-zà-ÿ0-9][\w-]*"
_PROPER_NAME = re.compile(rf"(?<=[^.!?…\n\s] ){_CAPITALISED}|\b\w*[A-Z]\w*-\w+\b")
# A place is named after a locative preposition ("à Lyon", "en Normandie", "dans l'Ohio"): a
# capitalised word alone may be an event ("la Journée mondiale") or an organisation.
_PLACE_NAME = re.compile(
    rf"(?:\b(?:[àÀ]|au|aux|en|dans|de|du|des|près de|vers|depuis|sur)\s+(?:l['’]\s*|la\s+|le\s+|les\s+)?"
    rf"|\bd['’]\s*)({_CAPITALISED})"
)


def expected_type(question: str, soft: bool = False) -> AnswerType | None:
    """The kind of fact ``question`` asks for: a date, a price, a quantity, a place or a name.

    With ``soft``, also a person or an organisation, from weaker cues (see ``_SOFT_CUES``).
    """
    text = fold(question)
    for kind, pattern in _QUESTION_PATTERNS + (_SOFT_PATTERNS if soft else []):
        if pattern.search(text):
            return kind
    return None


def has_evidence(kind: AnswerType, passage: str, question: str, tuning: DecisionTuning) -> bool:
    """Whether ``passage`` holds something of the expected kind.

    A place or a name must be a proper noun that the question does not already name ("Où se
    trouve le siège de l'Inserm ?" is not answered by a passage whose only name is "Inserm"); a
    place is one named after a locative preposition ("à Lyon"), not any capitalised word. A name
    may also be a word French usage hardly knows (:attr:`qa.settings.DecisionTuning.name_info`,
    ``name_length``).
    """
    if kind in (AnswerType.PERSON, AnswerType.ORGANISATION):
        kind = AnswerType.NAME
    if kind in (AnswerType.PLACE, AnswerType.NAME):
        asked = set(words(question))
        names = (
            (m.group(1) for m in _PLACE_NAME.finditer(passage))
            if kind == AnswerType.PLACE
            else (m.group() for m in _PROPER_NAME.finditer(passage))
        )
        if any(fold(name) not in asked for name in names):
            return True
        # a name may be a term in lower case ("ferroptose"): a word French usage does not know
        return kind == AnswerType.NAME and any(
            informativeness(form) >= tuning.name_info
            for word, form in surface_forms(passage).items()
            if word not in asked and len(word) >= tuning.name_length
        )
    return bool(_EVIDENCE[kind].search(fold(passage)))
