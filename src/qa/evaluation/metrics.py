"""Evaluation: ranking quality, highlight accuracy, passage length and the no-answer decision.

A question's gold is verbatim spans (our files: a passage answers when it contains one, after
folding typographic apostrophes, case and white space) or character offsets in an article file
(PIAF, SQuAD: a passage answers when it is in that article and covers the span). Only an
``answered`` reply counts as answering: ``related``, ``no_answer`` and the rest are declines;
ranking and highlight are scored on the passages listed, whatever the status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from qa.answer import Answer, Status
from qa.evaluation.datasets import Question

__all__ = [
    "Answerer",
    "Tally",
    "Report",
    "evaluate",
    "format_report",
    "format_markdown",
    "answer_rank",
    "highlight_hit",
    "normalise",
]


class Answerer(Protocol):
    """Anything with ``ask`` (the engine, a baseline, or a fake in tests)."""

    def ask(self, question: object, history: Sequence[str] = ()) -> Answer:
        """Answer one question, after the earlier turns ``history``."""


def normalise(text: str) -> str:
    """Fold typographic apostrophes, case and white space, as the evaluation data prescribes."""
    return " ".join(text.replace("\u2019", "'").lower().split())


def _holds(article: str, start: int, end: int, text: str, question: Question) -> bool:
    """Whether ``text`` (``source[start:end]`` of ``article``) holds the question's gold."""
    if question.article is not None:
        return article == question.article and start <= question.start and question.end <= end
    folded = normalise(text)
    return any(normalise(g) in folded for g in question.gold)


def _as_question(question: Question | tuple[str, ...]) -> Question:
    return Question(id="", text="", gold=question) if isinstance(question, tuple) else question


def answer_rank(answer: Answer, question: Question | tuple[str, ...]) -> int | None:
    """Rank (1-based) of the first cited passage holding the gold, or ``None``."""
    question = _as_question(question)
    for c in answer.passages:
        if _holds(c.article, c.start, c.end, c.text, question):
            return c.rank
    return None


def highlight_hit(answer: Answer, question: Question | tuple[str, ...]) -> bool:
    """Whether the first passage's highlighted sentence holds the gold."""
    if not answer.passages:
        return False
    first = answer.passages[0]
    return _holds(
        first.article, first.highlight_start, first.highlight_end, first.highlight, _as_question(question)
    )


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
    answered_out_of_scope: int = 0
    first_lengths: list[int] = field(default_factory=list)

    def add(self, question: Question, answer: Answer) -> None:
        """Count one answered question."""
        answered = answer.status == Status.ANSWERED
        if answer.passages:
            self.first_lengths.append(len(answer.passages[0].text))
        if not question.answerable:
            self.out_of_scope += 1
            self.answered_out_of_scope += answered
            return
        self.answerable += 1
        self.false_no_answer += not answered
        rank = answer_rank(answer, question)
        if rank:
            self.top1 += rank == 1
            self.top3 += rank <= 3
            self.reciprocal_rank += 1 / rank
        self.highlights += highlight_hit(answer, question)

    def absorb(self, other: Tally) -> None:
        """Add the counts of ``other`` to these."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)

    def metrics(self) -> dict[str, float | int]:
        """Return the rates of this group.

        Ranking rates over the answerable questions (the passages ranked, whatever the status),
        the mean length of the first passage, and the shares of wrong and right declines.
        """
        out: dict[str, float | int] = {"n": self.answerable + self.out_of_scope}
        if self.answerable:
            n = self.answerable
            out |= {
                "top1": self.top1 / n,
                "recall@3": self.top3 / n,
                "mrr": self.reciprocal_rank / n,
                "highlight": self.highlights / n,
                "false_no_answer": self.false_no_answer / n,
            }
        if self.first_lengths:
            out["chars"] = sum(self.first_lengths) / len(self.first_lengths)
        if self.out_of_scope:
            out["no_answer"] = 1 - self.answered_out_of_scope / self.out_of_scope
        return out


@dataclass
class Report:
    """Overall and per-kind tallies, and the misses worth reading."""

    overall: Tally
    by_kind: dict[str, Tally]
    misses: list[str]

    @classmethod
    def merge(cls, reports: list[Report]) -> Report:
        """One report counting the questions of all of ``reports``."""
        overall = Tally()
        by_kind: dict[str, Tally] = defaultdict(Tally)
        for report in reports:
            overall.absorb(report.overall)
            for kind, tally in report.by_kind.items():
                by_kind[kind].absorb(tally)
        return cls(overall, dict(sorted(by_kind.items())), [m for r in reports for m in r.misses])


def evaluate(answerer: Answerer, questions: list[Question]) -> Report:
    """Ask every question (after its earlier turns, if any) and tally the results."""
    overall = Tally()
    by_kind: dict[str, Tally] = defaultdict(Tally)
    misses = []
    for question in questions:
        if question.history:
            answer = answerer.ask(question.text, history=question.history)
        else:
            answer = answerer.ask(question.text)
        overall.add(question, answer)
        by_kind[question.kind].add(question, answer)
        answered = answer.status == Status.ANSWERED
        if question.answerable:
            rank = answer_rank(answer, question)
            if rank != 1 or not answered:
                misses.append(
                    f"{question.id} [{question.kind}] rang {rank} {answer.status.value} : {question.text}"
                )
        elif answered:
            misses.append(f"{question.id} [{question.kind}] répondu à tort : {question.text}")
    return Report(overall=overall, by_kind=dict(sorted(by_kind.items())), misses=misses)


COLUMNS = ("n", "top1", "recall@3", "mrr", "highlight", "chars", "false_no_answer", "no_answer")


def _cells(metrics: dict[str, float | int]) -> list[str]:
    cells = []
    for column in COLUMNS:
        value = metrics.get(column)
        if value is None:
            cells.append("-")
        elif column in ("n", "chars"):
            cells.append(f"{value:.0f}")
        else:
            cells.append(f"{value:.3f}")
    return cells


def _rows(report: Report) -> list[tuple[str, dict[str, float | int]]]:
    rows = [("TOTAL", report.overall.metrics())]
    if len(report.by_kind) > 1:
        rows.extend((kind, tally.metrics()) for kind, tally in report.by_kind.items())
    return rows


def format_report(report: Report, misses: bool = True) -> str:
    """A plain-text table of the report, then the misses."""
    lines = [f"{'':16}" + "".join(f"{c:>16}" for c in COLUMNS)]
    for name, metrics in _rows(report):
        lines.append(f"{name[:16]:16}" + "".join(f"{c:>16}" for c in _cells(metrics)))
    if misses and report.misses:
        lines += ["", "À revoir :", *(f"  {m}" for m in report.misses)]
    return "\n".join(lines)


def format_markdown(reports: dict[str, Report]) -> str:
    """One Markdown table comparing systems (``{"engine": report, "naive": report, ...}``)."""
    lines = ["| system | kind | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * len(COLUMNS)]
    for system, report in reports.items():
        for name, metrics in _rows(report):
            lines.append(f"| {system} | {name} | " + " | ".join(_cells(metrics)) + " |")
    return "\n".join(lines)


def markdown_runs(runs: list) -> str:
    """Every run as a Markdown section: the systems' table, then the engine per file."""
    parts = []
    for run in runs:
        parts += [f"### {run.title}", "", format_markdown(run.reports), ""]
        if run.by_file:
            parts += ["Par fichier (moteur) :", "", format_markdown(run.by_file), ""]
    return "\n".join(parts)
