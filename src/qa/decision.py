"""Whether the article answers: the support for the top passage, and what the question asks for.

Every signal is measured against the passage being cited and its own article, never against the
whole corpus, so the decision does not move when articles are added or removed:

- ``dense``: the passage's best unit cosine with the question;
- ``coverage``: the share of the question's information (words weighted by their rarity in
  French, :mod:`qa.wordinfo`) that the article contains;
- ``contrast``: how far the passage stands out from the other passages of its article (a question
  the article does not answer is about as close to all of them);
- ``missing``: the rarest question word the article lacks ("radiothérapie", "héréditaire").

``support = dense + coverage_credit · coverage + contrast_credit · contrast
− missing_penalty · missing / 7`` must reach ``support_threshold``. English questions, whose words
cannot meet a French text, are judged on the dense score alone. Then the answer-type check: a
question asking *when*, *how much* or *how many* whose passage holds no date, price or number is
not answered but gets the passage as related reading (status ``related``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.answer import Decision
from qa.answer_type import expected_type, has_evidence
from qa.corpus import Corpus
from qa.lexical import QueryTerm, coverage_in
from qa.settings import Tuning
from qa.textnorm import looks_english
from qa.wordinfo import MOST


@dataclass(frozen=True)
class Evidence:
    """The signals about the top passage (see the module docstring)."""

    dense: float
    coverage: float
    contrast: float
    missing: float
    english: bool


@dataclass(frozen=True)
class Outcome(Decision):
    """A decision, and whether a declined passage is still worth offering as related reading."""

    related: bool = False


def gather(
    corpus: Corpus, text: str, terms: list[QueryTerm], query: np.ndarray, top: int, dense: float
) -> Evidence:
    """The evidence for passage ``top`` (dense score ``dense``), all of it from its own article."""
    a = int(corpus.passage_article[top])
    rest = [corpus.best_unit(i, query) for i in corpus.article_passages[a] if i != top]
    vocabulary = corpus.article_stems[a]
    missing = [t.info for t in terms if not (t.stem and t.stem in vocabulary)]
    return Evidence(
        dense=dense,
        coverage=coverage_in(terms, vocabulary),
        contrast=dense - float(np.mean(rest)) if rest else 0.0,
        missing=max(missing, default=0.0),
        english=looks_english(text),
    )


def support(evidence: Evidence, tuning: Tuning) -> float:
    """The evidence combined into one score, compared with ``support_threshold``."""
    return (
        evidence.dense
        + tuning.coverage_credit * evidence.coverage
        + tuning.contrast_credit * evidence.contrast
        - tuning.missing_penalty * evidence.missing / MOST
    )


def judged(evidence: Evidence, tuning: Tuning) -> tuple[float, float]:
    """The score the decision compares, and its threshold: the support, or for English the dense score."""
    if evidence.english:
        return evidence.dense, tuning.english_threshold
    return support(evidence, tuning), tuning.support_threshold


def margin(evidence: Evidence, tuning: Tuning) -> float:
    """How far the score is from its threshold: the gap that would flip the decision."""
    score, threshold = judged(evidence, tuning)
    return abs(score - threshold)


def decide(evidence: Evidence, tuning: Tuning, question: str, passage: str) -> Outcome:
    """Answer, offer as related reading, or decline; the reason is written for staff."""
    score, threshold = judged(evidence, tuning)
    if evidence.english:
        why = "question en anglais : seul le score dense compte"
    else:
        why = (
            f"dense {evidence.dense:.3f}, {evidence.coverage:.0%} de l'information de la question "
            f"dans l'article cité, contraste {evidence.contrast:.3f}, mot absent le plus rare "
            f"{evidence.missing:.1f}/7"
        )
    answerable = score >= threshold
    verdict = "au-dessus" if answerable else "en dessous"
    reason = f"{why} ; soutien {score:.3f}, {verdict} du seuil {threshold:.3f}"
    related = False
    kind = expected_type(question)
    if answerable and kind and not has_evidence(kind, passage, question):
        answerable, related = False, True
        reason += f" ; mais la question demande : {kind.value}, et le passage n'en contient pas"
    return Outcome(
        answerable,
        reason,
        round(evidence.coverage, 4),
        round(evidence.dense, 4),
        round(score, 4),
        round(threshold, 4),
        round(evidence.contrast, 4),
        round(evidence.missing, 2),
        related,
    )
