"""Whether two questions mean the same: what lets a verified answer serve a reworded question.

e5's question vectors alone cannot tell: « Quelles patientes ont reçu l'anticorps-médicament ? »
and « Combien de patientes ont reçu l'anticorps-médicament ? » are at cosine 0.99, while true
rewordings (« Qui est l'auteur ? » / « Qui a écrit cet article ? ») can sit at 0.93. Two readings
of the pair add what the vector misses:

- **the need**: what kind of reply each question asks for (a person, a date, a place, a quantity,
  a reason, a manner, a name, a thing, yes or no), read from its interrogative words;
- **the words left over**: the content words of one question that have no counterpart in the
  other (same stem, or a typo of it), and how much the rarest of them says (a rare word left over,
  « chimiothérapie » for « immunothérapie », changes the question).

A logistic regression over these signals (``paraphrase.json`` beside :mod:`qa.learn.model`,
fitted by ``qa train-paraphrase`` on labelled pairs, docs/verification.md) gives the probability
that the two questions mean the same; a verification serves the question from its threshold on.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from qa.learn.model import DecisionModel, load
from qa.settings import Typos
from qa.textnorm import content_words, fold, is_typo_of, stem
from qa.wordinfo import informativeness

MODEL_FILE = Path(__file__).parent / "learn" / "paraphrase.json"


class Need(str, Enum):
    """The kind of reply a question asks for."""

    PRICE = "prix"
    DATE = "date"
    QUANTITY = "quantité"
    NAME = "nom"
    PERSON = "personne"
    PLACE = "lieu"
    REASON = "raison"
    MANNER = "manière"
    THING = "chose"
    YES_NO = "oui ou non"
    TOPIC = "sujet"  # keywords without a question: « leucemie fer »


# Read on the folded text, in this order: the first that matches names the need.
_NEEDS = (
    (Need.PRICE, r"\b(combien (?:ca )?(?:coute|coutent|vaut|valent)|prix|tarif|cout|how much does)\b"),
    (
        Need.DATE,
        r"\b(quand|a quelle date|quelle date|quelle annee|en quelle annee|combien de temps"
        r"|quelle (?:est la )?duree|combien (?:d'annees|de mois|de semaines|de jours)"
        r"|when|what year|how long)\b",
    ),
    (Need.QUANTITY, r"\b(combien|quel nombre|quelle proportion|quel pourcentage|how many|how much)\b"),
    (
        Need.NAME,
        r"\b(comment s'appelle|comment se nomme|quel est le nom|what is the name|what is \w+ called)\b",
    ),
    (Need.PERSON, r"(^|\b(?:par|de|a|avec|pour) )(qui|who|whom)\b"),
    (
        Need.PLACE,
        r"(\bou\b|\bwhere\b|\bquel(?:le)?s? (?:pays|lieu|ville|region|hopital|hopitaux|centre)\b)",
    ),
    (Need.REASON, r"\b(pourquoi|pour quelle raison|why)\b"),
    (Need.MANNER, r"\b(comment|how)\b"),
    (Need.THING, r"\b(quel|quelle|quels|quelles|lequel|laquelle|que|quoi|qu'est-ce|qu'|what|which)\b"),
)
_YES_NO = re.compile(r"(-t-|-(?:il|elle|ils|elles|on)\b|\best-ce que\b|^(?:is|are|does|do|did|can|will)\b)")


def need(question: str) -> Need:
    """What ``question`` asks for, from its interrogative words (accents and case ignored)."""
    text = fold(question).strip()
    if "où" not in question.lower():
        text = re.sub(r"\bou\b", " ", text)  # "ou" is "or"; "where" is written "où" (or "d'où")
    for kind, pattern in _NEEDS:
        if re.search(pattern, text):
            return kind
    if _YES_NO.search(text):
        return Need.YES_NO
    return Need.YES_NO if text.endswith("?") else Need.TOPIC


def plain(question: str) -> str:
    """``question`` as compared with another: no accents, lower case, no final punctuation.

    e5 moves a question by up to 0.1 of cosine when its accents go (« Quelle année a été marquée… »
    / « quelle annee a ete marquee… »: 0.89): the vectors of two questions are taken of these forms.
    """
    return fold(question).strip().rstrip(" ?!.").strip()


def _joined(words: list[str], other: list[str]) -> list[str]:
    """``words`` with two neighbours run together where ``other`` writes them as one (« tri therapie »)."""
    out: list[str] = []
    for word in words:
        if out and out[-1] + word in other:
            out[-1] += word
        else:
            out.append(word)
    return out


def _counterpart(word: str, others: list[str], typos: Typos) -> bool:
    """Whether ``word`` has a counterpart in ``others``: the same stem, or a typo of one."""
    root = stem(word)
    return any(stem(o) == root or is_typo_of(word, o, typos) or is_typo_of(o, word, typos) for o in others)


@dataclass(frozen=True, kw_only=True)
class PairSignals:
    """What the model reads of a pair of questions; symmetric in the two questions."""

    cosine: float  # of the two questions' e5 vectors
    need_differs: float  # 1 when both ask a question and not for the same kind of reply
    left_over_share: float  # share of the content words (both questions) without a counterpart
    left_over_info: float  # informativeness of the rarest such word (0 when none)
    numbers_differ: float  # 1 when the numbers written in the two questions differ

    def as_dict(self) -> dict[str, float]:
        """The signals by name, as the model reads them."""
        return asdict(self)


def pair_signals(a: str, b: str, cosine: float, typos: Typos) -> PairSignals:
    """The signals of questions ``a`` and ``b`` whose vectors are at ``cosine``; ``typos``: what a slip is."""
    words_a, words_b = content_words(a), content_words(b)
    words_a, words_b = _joined(words_a, words_b), _joined(words_b, words_a)
    left = [w for w in words_a if not _counterpart(w, words_b, typos)]
    left += [w for w in words_b if not _counterpart(w, words_a, typos)]
    total = len(words_a) + len(words_b)
    need_a, need_b = need(a), need(b)
    asks = Need.TOPIC not in (need_a, need_b)
    numbers_a = {w for w in words_a if w.isdigit()}
    numbers_b = {w for w in words_b if w.isdigit()}
    return PairSignals(
        cosine=cosine,
        need_differs=float(asks and need_a != need_b),
        left_over_share=len(left) / total if total else 0.0,
        left_over_info=max((informativeness(w) for w in left), default=0.0),
        numbers_differ=float(numbers_a != numbers_b),
    )


@cache
def model(path: Path = MODEL_FILE) -> DecisionModel:
    """The shipped paraphrase model: ``probability(signals) >= threshold`` means the same.

    Raises:
        ValueError: when the file is missing or malformed.
    """
    return load(path)
