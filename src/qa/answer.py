"""The one output contract shared by the command line, the web app, the API and the evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum


class Status(str, Enum):
    """What kind of reply an answer is."""

    ANSWERED = "answered"
    RELATED = "related"  # on topic, but the passage lacks what is asked: offered as related reading
    NO_ANSWER = "no_answer"
    INVALID = "invalid"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class Scores:
    """The scores behind a passage's rank, for staff: dense cosine, BM25, and their fusion."""

    dense: float
    lexical: float
    fused: float


@dataclass(frozen=True)
class Citation:
    """A passage quoted verbatim: ``article.source[start:end] == text``; ``highlight`` lies inside."""

    rank: int
    article: str
    section: str
    text: str
    highlight: str
    start: int
    end: int
    score: float
    highlight_start: int
    highlight_end: int
    scores: Scores

    def to_dict(self) -> dict:
        """The contract's passage object."""
        return {
            "rank": self.rank,
            "article": self.article,
            "section": self.section,
            "text": self.text,
            "highlight": self.highlight,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Decision:
    """Why the engine answered or declined: the signals, the thresholds and a sentence for staff."""

    answerable: bool
    reason: str
    coverage: float
    dense: float
    confidence: float  # the support the threshold is compared with (see qa.decision)
    threshold: float
    contrast: float = 0.0
    missing: float = 0.0


@dataclass(frozen=True)
class Verified:
    """The editors' verification a reply was given from (:mod:`qa.verified`)."""

    id: int
    at: str  # when it was made, ISO 8601


@dataclass(frozen=True)
class Answer:
    """A reply to one question."""

    question: str
    status: Status
    message: str
    passages: list[Citation] = field(default_factory=list)
    decision: Decision | None = None
    context: str | None = None  # the earlier question this one was read with, when it was
    verified: Verified | None = None  # given from an editor's verification, not searched

    def with_context(self, earlier: str) -> Answer:
        """Return this answer, noting that it was read in the light of ``earlier``."""
        return replace(self, context=earlier)

    def to_dict(self, diagnostics: bool = False) -> dict:
        """The JSON contract; with ``diagnostics``, also the scores and the decision (staff view)."""
        out = {
            "question": self.question,
            "status": self.status.value,
            "message": self.message,
            "passages": [p.to_dict() for p in self.passages],
            "verified": asdict(self.verified) if self.verified else None,
        }
        if self.context:
            out["context"] = {"from": self.context}
        if diagnostics:
            for passage, citation in zip(out["passages"], self.passages, strict=True):
                passage["scores"] = asdict(citation.scores)
                passage["highlight_start"] = citation.highlight_start
                passage["highlight_end"] = citation.highlight_end
            out["decision"] = asdict(self.decision) if self.decision else None
        return out
