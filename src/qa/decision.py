"""Whether the article answers: a learned model reads the signals of the top passage.

Every signal is measured against the passage being cited and its own article, never against the
whole corpus, so the decision does not move when articles are added or removed:

- ``dense``: the passage's best unit cosine with the question;
- ``contrast`` and ``gap``: how far the passage stands out from the other passages of its article,
  on average and from the next best (a question the article does not answer is about as close to
  several of them);
- ``coverage`` and ``missing``: the share of the question's information (words weighted by their
  rarity in French, :mod:`qa.wordinfo`) that the article contains, and the rarest word it lacks;
- ``passage_coverage``, ``passage_missing`` and ``sentence_coverage``: the same in the passage
  itself and in its best sentence (or two): an article can be about the topic without saying it;
- ``specific_coverage``: the share of the question's information in the passage, each word
  weighted also by how few of the article's passages hold it: a passage that holds only the
  article's topic words (the subject every paragraph names) is about the topic, one that holds
  the question's rarer words says something about them;
- ``sentence_dense``: the best cosine of one of the passage's sentences (or pairs) alone;
- ``type_missing``: the question asks for a kind of fact (a date, a number, a name, a person, an
  organisation: :mod:`qa.answer_type`) that the passage does not hold;
- ``terms``: how many content words the question has.

A logistic regression trained on labelled examples (:mod:`qa.learn`, docs/evaluation.md) turns
them into the probability that the passage answers; from the model's threshold, it does. English
questions, whose words cannot meet a French text and which no training example is, are judged on
the dense score alone. Then the answer-type check: a question asking *when*, *how much* or *how
many* whose passage holds no date, price or number is not answered but gets the passage as related
reading (status ``related``).

In a conversation, the passage is found with the topic, but the words the signals weigh are the
follow-up's own: "Et les effets secondaires ?" is answered only by a passage that speaks of them,
and a follow-up none of whose own words the passage holds is not answered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from qa.answer import Decision
from qa.answer_type import expected_type, has_evidence
from qa.corpus import Corpus
from qa.learn.model import DecisionModel
from qa.lexical import QueryTerm, coverage_in
from qa.query import Query
from qa.ranking import Ranking
from qa.settings import DecisionTuning
from qa.textnorm import looks_english
from qa.wordinfo import MOST

# The signals that move with the question vector, and by how much at most when every cosine moves by
# one unit: a difference of two cosines (contrast, gap) by two.
VECTOR_SIGNALS = {"dense": 1.0, "sentence_dense": 1.0, "contrast": 2.0, "gap": 2.0}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """The signals about the top passage (see the module docstring); ``english`` is not one."""

    dense: float
    contrast: float
    gap: float
    coverage: float
    missing: float
    passage_coverage: float
    passage_missing: float
    sentence_coverage: float
    specific_coverage: float
    sentence_dense: float
    type_missing: float
    terms: float
    english: bool = False

    def signals(self) -> dict[str, float]:
        """The signals by name, as the model reads them."""
        out = asdict(self)
        del out["english"]
        return out


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """The evidence weighed: the score compared with the threshold, and how far it was from flipping.

    ``score`` and ``threshold`` are log-odds that the passage answers; for an English question,
    the dense score and its threshold. ``margin``: how far the question vector's cosines would
    have to move for the score to cross the threshold.
    """

    evidence: Evidence
    score: float
    threshold: float
    margin: float

    @property
    def answerable(self) -> bool:
        """Whether the score reaches the threshold (before the follow-up and answer-type checks)."""
        return self.score >= self.threshold


@dataclass(frozen=True, kw_only=True)
class Outcome(Decision):
    """A decision, and whether a declined passage is still worth offering as related reading."""

    related: bool = False
    signals: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)


def _rarest_missing(terms: Sequence[QueryTerm], stems: set[str] | frozenset[str]) -> float:
    """The informativeness of the rarest question word ``stems`` lack, over :data:`MOST` (0 to 1)."""
    return max((t.info for t in terms if not (t.stem and t.stem in stems)), default=0.0) / MOST


def _best_window(terms: Sequence[QueryTerm], sentences: list[frozenset[str]]) -> float:
    """The question's information found in the passage's best sentence or pair of neighbours."""
    return max((coverage_in(terms, set(w)) for w in _windows(sentences)), default=0.0)


def _windows(sentences: list[frozenset[str]]) -> list[frozenset[str]]:
    """Each sentence's stems, then each pair of neighbouring sentences'."""
    return [*sentences, *(a | b for a, b in zip(sentences, sentences[1:], strict=False))]


def _specific_coverage(corpus: Corpus, article: int, terms: Sequence[QueryTerm], passage: set[str]) -> float:
    """The question's information in ``passage``, each word also weighted by its rarity in the article.

    A word's weight is its French rarity times ``log(1 + n / (1 + df))``, ``n`` the article's
    passages and ``df`` those that hold the word; a word the article lacks counts as rarest.
    """
    n = len(corpus.article_passages[article])
    held = corpus.article_df[article]
    weights = [(t, t.info * math.log(1 + n / (1 + held.get(t.stem, 0)))) for t in terms]
    total = sum(w for _, w in weights)
    if total == 0:
        return 0.0
    return sum(t.weight * w for t, w in weights if t.stem and t.stem in passage) / total


def _sentence_dense(corpus: Corpus, passage: int, vector: np.ndarray) -> float:
    """The best cosine of a sentence or pair of sentences of ``passage`` with the question's ``vector``."""
    units = [j for j in corpus.passage_units[passage] if corpus.index.units[j].kind in ("sentence", "pair")]
    return float((corpus.vectors[units] @ vector).max()) if units else corpus.best_unit(passage, vector)


def gather(
    corpus: Corpus, query: Query, ranking: Ranking, *, passage: int, tuning: DecisionTuning
) -> Evidence:
    """The evidence for ``passage`` (ranked by ``ranking``), all of it from its own article.

    The words weighed are those the question asks about (:attr:`qa.query.Query.asked`: a
    follow-up's own, not its topic's).
    """
    terms, text = query.asked, query.text
    dense = float(ranking.dense[passage])
    a = int(corpus.passage_article[passage])
    rest = [corpus.best_unit(i, query.vector) for i in corpus.article_passages[a] if i != passage]
    vocabulary = corpus.article_stems[a]
    held = set(corpus.lexical.docs[passage])  # the passage's stems
    return Evidence(
        dense=dense,
        contrast=dense - float(np.mean(rest)) if rest else 0.0,
        gap=dense - max(rest) if rest else 0.0,
        coverage=coverage_in(terms, vocabulary),
        missing=_rarest_missing(terms, vocabulary),
        passage_coverage=coverage_in(terms, held),
        passage_missing=_rarest_missing(terms, held),
        sentence_coverage=_best_window(terms, corpus.sentence_stems[passage]),
        specific_coverage=_specific_coverage(corpus, a, terms, held),
        sentence_dense=_sentence_dense(corpus, passage, query.vector),
        type_missing=float(
            bool(
                (kind := expected_type(text, soft=True))
                and not has_evidence(kind, corpus.text(passage), text, tuning)
            )
        ),
        terms=float(len(terms)),
        english=looks_english(text),
    )


def judge(evidence: Evidence, tuning: DecisionTuning, model: DecisionModel) -> Judgement:
    """Weigh ``evidence``: the model's log-odds against its threshold; for English, the dense score."""
    if evidence.english:
        score, threshold = evidence.dense, tuning.english_threshold
        margin = abs(score - threshold)
    else:
        probability = model.threshold if tuning.answer_threshold is None else tuning.answer_threshold
        score, threshold = model.logit(evidence.signals()), _log_odds(probability)
        margin = abs(score - threshold) / max(model.slope(VECTOR_SIGNALS), 1e-9)
    return Judgement(evidence=evidence, score=score, threshold=threshold, margin=margin)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _weighed(judgement: Judgement, model: DecisionModel) -> tuple[float, float, str, dict[str, float]]:
    """What staff read of a judgement: the confidence and its bar, a sentence, each signal's share."""
    score, threshold, evidence = judgement.score, judgement.threshold, judgement.evidence
    verdict = "au-dessus" if judgement.answerable else "en dessous"
    if evidence.english:
        reason = f"question en anglais : score dense {score:.3f}, {verdict} du seuil {threshold:.3f}"
        return score, threshold, reason, {}
    confidence, bar = _probability(score), _probability(threshold)
    contributions = {k: round(v, 3) for k, v in model.contributions(evidence.signals()).items()}
    strongest = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))[:3]
    said = ", ".join(f"{k} {v:+.2f}" for k, v in strongest)
    reason = (
        f"probabilité que le passage réponde {confidence:.2f}, {verdict} du seuil {bar:.2f} "
        f"(signaux décisifs : {said})"
    )
    return confidence, bar, reason, contributions


def decide(
    judgement: Judgement, query: Query, *, passage: str, tuning: DecisionTuning, model: DecisionModel
) -> Outcome:
    """Answer, offer as related reading, or decline; the reason is written for staff.

    ``passage`` is the text of the passage judged. A follow-up (:attr:`qa.query.Query.follow_up`)
    is not answered by a passage that holds none of its own words.
    """
    evidence = judgement.evidence
    confidence, bar, reason, contributions = _weighed(judgement, model)
    answerable = judgement.answerable
    if answerable and query.follow_up and evidence.passage_coverage == 0:
        answerable = False
        reason += " ; mais le passage ne contient aucun des mots propres à la question de suite"
    related = False
    kind = expected_type(query.text)
    if answerable and kind and not has_evidence(kind, passage, query.text, tuning):
        answerable, related = False, True
        reason += f" ; mais la question demande : {kind.value}, et le passage n'en contient pas"
    return Outcome(
        answerable=answerable,
        reason=reason,
        coverage=round(evidence.coverage, 4),
        dense=round(evidence.dense, 4),
        confidence=round(confidence, 4),
        threshold=round(bar, 4),
        contrast=round(evidence.contrast, 4),
        missing=round(evidence.missing * MOST, 2),
        related=related,
        signals={k: round(v, 4) for k, v in evidence.signals().items()},
        contributions=contributions,
    )


def _probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))
