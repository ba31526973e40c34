"""Answers verified by the editors: a question and the passage that answers it, or "absent".

An editor who checks an answer against the article can fix it: they choose the passage of the
article that answers the question (and, if they like, the sentence to mark in it), or say that the
article does not say it. The engine consults these verifications before it searches: a question
that means the same as a verified one (:mod:`qa.paraphrase`, docs/verification.md) is answered
from the verification. It stays extractive: a verification is a choice of text in the article,
never written text.

A verification applies while its article is the one it was made on: when the article's text
changes (its checksum), the verification is *stale* and no longer serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import qa.messages as messages
from qa.answer import Answer, Citation, Decision, Scores, Status, Verified
from qa.article import Article, Span
from qa.encoders import QueryEncoder
from qa.errors import QAError
from qa.paraphrase import PairSignals, pair_signals, plain
from qa.settings import Typos, VerifiedTuning
from qa.validation import check_question

ABSENT = "absent"  # the verdict "the article does not say it"


class VerificationError(QAError, ValueError):
    """A verification that cannot be recorded: its message says why, in French."""


@dataclass(frozen=True, kw_only=True)
class Verification:
    """One editor's verification of a question.

    ``passage`` is ``None`` for the verdict "absent"; ``highlight`` lies inside ``passage``;
    ``context`` is the earlier question the question was read after, when it was a follow-up;
    ``checksum`` the SHA-256 of the article's source when it was verified.
    """

    id: int
    question: str
    context: str | None
    article: str | None
    passage: Span | None
    highlight: Span | None
    checksum: str | None
    author: str
    at: str

    @property
    def absent(self) -> bool:
        """Whether the editor said the article does not say it."""
        return self.passage is None


def check_verification(
    articles: Sequence[Article],
    question: object,
    article: object = None,
    start: object = None,
    end: object = None,
    highlight_start: object = None,
    highlight_end: object = None,
    verdict: object = None,
    max_chars: int | None = None,
) -> tuple[str, Article | None, Span | None, Span | None]:
    """The checked question, article, passage and highlight of a new verification.

    Raises:
        VerificationError: with a French message, when any part is missing or wrong.
    """
    checked = check_question(question, max_chars) if max_chars else check_question(question)
    if checked.problem:
        raise VerificationError(checked.problem)
    if verdict is not None:
        if verdict != ABSENT:
            raise VerificationError(f"verdict inconnu : seul « {ABSENT} » (l'article ne le dit pas) existe")
        if article is not None or start is not None:
            raise VerificationError("un verdict « absent » ne cite pas de passage")
        return checked.text, None, None, None
    found = next((a for a in articles if a.id == article), None)
    if found is None:
        known = ", ".join(a.id for a in articles)
        raise VerificationError(f"article inconnu : choisissez l'un de {known}")
    passage = _span(start, end, 0, len(found.source), "le passage")
    if not found.source[passage.start : passage.end].strip():
        raise VerificationError("le passage choisi est vide")
    highlight = None
    if highlight_start is not None or highlight_end is not None:
        highlight = _span(highlight_start, highlight_end, passage.start, passage.end, "la phrase marquée")
    return checked.text, found, passage, highlight


def _span(start: object, end: object, low: int, high: int, what: str) -> Span:
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or isinstance(start, bool)
        or isinstance(end, bool)
    ):
        raise VerificationError(f"{what} : début et fin doivent être des nombres entiers")
    if not low <= start < end <= high:
        raise VerificationError(f"{what} : les positions {start}-{end} sortent du texte ({low}-{high})")
    return Span(start, end)


@dataclass(frozen=True)
class Match:
    """The verification a question is answered from, and the signals of the pair."""

    verification: Verification
    signals: PairSignals


def means_same(signals: PairSignals, tuning: VerifiedTuning) -> bool:
    """Whether two questions mean the same: the rule fitted on labelled pairs (docs/verification.md).

    The same need and the same numbers, and either every content word has a counterpart and the
    vectors are close, or the words left over say little and the vectors are closer still.
    """
    if signals.need_differs or signals.numbers_differ:
        return False
    if signals.left_over_info == 0.0:
        return signals.cosine >= tuning.same_words_cosine
    return signals.left_over_info <= tuning.left_over_info and signals.cosine >= tuning.cosine


class VerifiedAnswers:
    """The verifications in force, with their questions' vectors; shared read-only between threads."""

    def __init__(
        self,
        verifications: Sequence[Verification],
        articles: Sequence[Article],
        encoder: QueryEncoder,
        tuning: VerifiedTuning,
        typos: Typos,
    ) -> None:
        """Keep the verifications whose article is unchanged; the others are :attr:`stale`."""
        checksums = {a.id: a.sha256 for a in articles}
        self.tuning = tuning
        self.encoder = encoder
        self.typos = typos
        self.stale = [v for v in verifications if not v.absent and checksums.get(v.article) != v.checksum]
        stale = {v.id for v in self.stale}
        self.current = [v for v in verifications if v.id not in stale]
        texts = [plain(v.question) for v in self.current]
        self.vectors = encoder.encode_queries(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def __len__(self) -> int:
        """How many verifications are in force."""
        return len(self.current)

    def match(self, question: str, context: str | None) -> Match | None:
        """The verification whose question means the same as ``question`` (read after ``context``).

        A follow-up matches a follow-up whose earlier question means the same too, and also a
        question verified alone (a visitor rewording the question just asked is read as a
        follow-up; what it asks is still the verified question). Of several matches, the
        closest vector, then the newest, wins.
        """
        if not self.current:
            return None
        cosines = self.vectors @ self.encoder.encode_queries([plain(question)])[0]
        for i in sorted(range(len(self.current)), key=lambda i: (-float(cosines[i]), -self.current[i].id)):
            if float(cosines[i]) < min(self.tuning.cosine, self.tuning.same_words_cosine):
                break
            verification = self.current[i]
            signals = pair_signals(question, verification.question, float(cosines[i]), self.typos)
            if means_same(signals, self.tuning) and self._same_context(context, verification.context):
                return Match(verification, signals)
        return None

    def _same_context(self, context: str | None, verified: str | None) -> bool:
        if verified is None:
            return True
        if context is None:
            return False
        if context == verified:
            return True
        a, b = self.encoder.encode_queries([plain(context), plain(verified)])
        return means_same(pair_signals(context, verified, float(a @ b), self.typos), self.tuning)


def verified_answer(
    verification: Verification,
    question: str,
    *,
    article: Article | None,
    context: str | None = None,
    declined: str = "",
    cosine: float = 1.0,
) -> Answer:
    """The reply ``verification`` gives ``question``: its passage, answered, or ``declined`` for "absent".

    The passage is quoted verbatim under its section's title, its marked sentence the editor's
    choice (the whole passage when they chose none). The decision says which verification
    served, and how close the question was to it (``cosine``; 1 for the staff's preview).
    """
    v = verification
    by = f"n° {v.id}, {v.author}, même sens que « {v.question} » (cosinus {cosine:.3f})"
    verified = Verified(id=v.id, at=v.at)
    if v.passage is None or article is None:
        decision = Decision(
            answerable=False,
            reason=f"la rédaction a vérifié que l'article ne le dit pas ({by})",
            coverage=0.0,
            dense=round(cosine, 4),
            confidence=0.0,
            threshold=0.0,
        )
        return Answer(
            question=question,
            status=Status.NO_ANSWER,
            message=declined,
            decision=decision,
            context=context,
            verified=verified,
        )
    passage, marked = v.passage, v.highlight or v.passage
    citation = Citation(
        rank=1,
        article=article.id,
        section=section_title(article, passage),
        text=article.source[passage.start : passage.end],
        highlight=article.source[marked.start : marked.end],
        start=passage.start,
        end=passage.end,
        score=cosine,
        highlight_start=marked.start,
        highlight_end=marked.end,
        scores=Scores(dense=cosine, lexical=0.0, fused=cosine),
    )
    decision = Decision(
        answerable=True,
        reason=f"réponse vérifiée par la rédaction ({by})",
        coverage=1.0,
        dense=round(cosine, 4),
        confidence=1.0,
        threshold=0.0,
    )
    return Answer(
        question=question,
        status=Status.ANSWERED,
        message=messages.answered(citation, article),
        passages=[citation],
        decision=decision,
        context=context,
        verified=verified,
    )


def section_title(article: Article, span: Span) -> str:
    """The title of the passage (else the section) ``span`` starts in; the article's title if none."""
    for part in (*article.passages, *article.sections):
        if part.start <= span.start < part.end:
            return part.title
    return article.title


def evaluation_rows(verifications: Sequence[Verification], articles: Sequence[Article]) -> list[dict]:
    """The verifications as evaluation questions, in the format ``qa eval`` reads (``dev.jsonl``).

    A passage gives the gold span (the marked sentence, else the whole passage); "absent" gives a
    question that must not be answered (as in ``dev_oos_near.jsonl``); a follow-up becomes a
    conversation (``turns``). Stale verifications are left out: their passage may be gone.
    """
    sources = {a.id: a for a in articles}
    rows = []
    for v in verifications:
        if v.absent:
            gold = None
        elif (article := sources.get(v.article or "")) is None or article.sha256 != v.checksum:
            continue
        else:
            span = v.highlight or v.passage
            assert span is not None
            gold = [article.source[span.start : span.end]]
        row: dict = {"id": f"verified-{v.id}"}
        row |= {"turns": [v.context, v.question]} if v.context else {"q": v.question}
        row |= {"gold": gold, "kind": "verified"} if gold else {"kind": "near"}
        rows.append(row)
    return rows
