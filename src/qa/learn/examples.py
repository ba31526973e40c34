"""Labelled examples for the decision: PIAF questions asked of the engine, with their signals.

From a PIAF folder (``articles/``, ``answerable.jsonl``), three kinds of (question, article) pairs:

- ``answerable``: each question asked against the folder's articles loaded together: label 1;
- ``absent``: each question asked against all the other articles of the folder: label 0;
- ``removed``: each question asked against its own article without the paragraph that holds its
  answer (:mod:`qa.evaluation.removed`), skipped when the answer's text is still elsewhere: label 0.

An example keeps the signals of the engine's first passage (:class:`qa.decision.Evidence`) and its
article, by which folds are grouped so that a model is never scored on an article it saw. English
questions (judged on the dense score alone), questions about the article itself and questions with
no content word are not examples of the learned decision and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.article import load_articles
from qa.encoders import Encoder
from qa.engine import Engine
from qa.evaluation.datasets import Question, read_piaf
from qa.evaluation.suite import removed_engines
from qa.settings import Settings
from qa.textnorm import looks_english

KINDS = ("answerable", "absent", "removed")


@dataclass(frozen=True)
class Example:
    """One labelled question: its signals for the engine's first passage, and where it comes from."""

    question: str
    kind: str
    label: int
    group: str  # the article the question was written about
    signals: dict[str, float]


def _asked(
    engine: Engine, questions: Iterable[Question], kind: str, label: int, groups: dict[int, str]
) -> list[Example]:
    """Each question asked of ``engine`` as an example; ``groups``: its article, by object id."""
    out = []
    for question in questions:
        if looks_english(question.text):  # judged on the dense score alone, not by the model
            continue
        answer = engine.ask(question.text)
        signals = getattr(answer.decision, "signals", None)
        if not signals:
            continue
        example = Example(
            question=question.text, kind=kind, label=label, group=groups[id(question)], signals=dict(signals)
        )
        out.append(example)
    return out


def piaf_examples(folder: Path, encoder: Encoder, settings: Settings, cut_folder: Path) -> list[Example]:
    """The three kinds of examples of one PIAF folder (see the module docstring).

    ``cut_folder`` receives the articles written without a paragraph.

    Raises:
        ValueError: when the folder is not in the PIAF layout.
    """
    data = read_piaf(folder)
    articles = load_articles(list(data.corpus or ()))
    questions = [q for q in data.questions if q.answerable]
    groups = {id(q): str(q.article) for q in questions}
    out = _asked(Engine.in_memory(articles, encoder, settings), questions, "answerable", 1, groups)
    for article in articles:
        others = [a for a in articles if a is not article]
        asked = [q for q in questions if q.article == article.id]
        if others and asked:
            out += _asked(Engine.in_memory(others, encoder, settings), asked, "absent", 0, groups)
    cut, cut_groups = removed_engines(articles, questions, settings, encoder, groups, cut_folder)
    for engine, negatives in cut:
        out += _asked(engine, negatives, "removed", 0, cut_groups)
    return out
