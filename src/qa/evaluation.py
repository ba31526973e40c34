"""Evaluation on question files: ranking quality, highlight accuracy and the no-answer decision.

A file holds one JSON object a line: ``{"id", "q", "gold": [spans], "kind"}``; a question with no
``gold`` is out of scope and should get ``no_answer``. A passage answers when it contains a gold
span after folding typographic apostrophes, case and white space.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from qa.answer import Answer, Status


class Answerer(Protocol):
    """Anything with ``ask`` (the engine, or a fake in tests)."""

    def ask(self, question: object) -> Answer:
        """Answer one question."""


@dataclass(frozen=True)
class Question:
    """One evaluation question."""

    id: str
    text: str
    gold: tuple[str, ...]
    kind: str

    @property
    def answerable(self) -> bool:
        """Whether the article answers it."""
        return bool(self.gold)


def normalise(text: str) -> str:
    """Fold typographic apostrophes, case and white space, as the evaluation data prescribes."""
    return " ".join(text.replace("\u2019", "'").lower().split())


def read_questions(path: Path) -> list[Question]:
    """Read a question file.

    Raises:
        ValueError: on a line that is not a JSON object with ``q`` (the message gives the line).
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["q"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number} : ligne invalide ({error})") from error
        gold = tuple(item.get("gold") or ())
        kind = item.get("kind") or ("answerable" if gold else "out-of-scope")
        questions.append(Question(str(item.get("id", number)), text, gold, kind))
    return questions


def answer_rank(answer: Answer, gold: tuple[str, ...]) -> int | None:
    """Rank (1-based) of the first cited passage containing a gold span, or ``None``."""
    spans = [normalise(g) for g in gold]
    for citation in answer.passages:
        text = normalise(citation.text)
        if any(span in text for span in spans):
            return citation.rank
    return None


def highlight_hit(answer: Answer, gold: tuple[str, ...]) -> bool:
    """Whether the top passage's highlight contains a gold span."""
    if not answer.passages:
        return False
    highlight = normalise(answer.passages[0].highlight)
    return any(normalise(g) in highlight for g in gold)


@dataclass
class Tally:
    """Counts for one group of questions."""

    answerable: int = 0
    top1: int = 0
    top3: int = 0
    reciprocal_rank: float = 0.0
    highlights: int = 0
    false_no_answer: int = 0
    out_of_scope: int = 0
    no_answer: int = 0

    def add(self, question: Question, answer: Answer) -> None:
        """Count one answered question."""
        declined = answer.status != Status.ANSWERED
        if not question.answerable:
            self.out_of_scope += 1
            self.no_answer += declined
            return
        self.answerable += 1
        self.false_no_answer += declined
        rank = answer_rank(answer, question.gold)
        if rank:
            self.top1 += rank == 1
            self.top3 += rank <= 3
            self.reciprocal_rank += 1 / rank
        self.highlights += highlight_hit(answer, question.gold)

    def metrics(self) -> dict[str, float | int]:
        """Rates: top-1, recall@3, MRR, highlight accuracy, false no-answer and no-answer rates."""
        out: dict[str, float | int] = {"n": self.answerable + self.out_of_scope}
        if self.answerable:
            n = self.answerable
            out |= {"top1": self.top1 / n, "recall@3": self.top3 / n, "mrr": self.reciprocal_rank / n,
                    "highlight": self.highlights / n, "false_no_answer": self.false_no_answer / n}
        if self.out_of_scope:
            out["no_answer"] = self.no_answer / self.out_of_scope
        return out


@dataclass
class Report:
    """Overall and per-kind tallies, and the misses worth reading."""

    overall: Tally
    by_kind: dict[str, Tally]
    misses: list[str]


def evaluate(answerer: Answerer, questions: list[Question]) -> Report:
    """Ask every question and tally the results."""
    overall = Tally()
    by_kind: dict[str, Tally] = defaultdict(Tally)
    misses = []
    for question in questions:
        answer = answerer.ask(question.text)
        overall.add(question, answer)
        by_kind[question.kind].add(question, answer)
        rank = answer_rank(answer, question.gold) if question.answerable else None
        if question.answerable and (rank != 1 or answer.status != Status.ANSWERED):
            status = answer.status.value
            misses.append(f"{question.id} [{question.kind}] rang {rank} {status} : {question.text}")
        elif not question.answerable and answer.status == Status.ANSWERED:
            misses.append(f"{question.id} [{question.kind}] répondu à tort : {question.text}")
    return Report(overall, dict(sorted(by_kind.items())), misses)


def format_report(report: Report) -> str:
    """A plain-text table of the report."""
    columns = ("n", "top1", "recall@3", "mrr", "highlight", "false_no_answer", "no_answer")
    lines = [f"{'':16}" + "".join(f"{c:>16}" for c in columns)]
    rows = [("TOTAL", report.overall), *report.by_kind.items()]
    for name, tally in rows:
        metrics = tally.metrics()
        cells = [f"{metrics[c]:>16}" if c == "n" else
                 (f"{metrics[c]:>16.3f}" if c in metrics else f"{'-':>16}") for c in columns]
        lines.append(f"{name[:16]:16}" + "".join(cells))
    if report.misses:
        lines.append("")
        lines.append("À revoir :")
        lines.extend(f"  {m}" for m in report.misses)
    return "\n".join(lines)
