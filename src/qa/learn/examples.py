"""Labelled examples for the decision: PIAF questions asked of the engine, with their signals.

From a PIAF folder (``articles/``, ``answerable.jsonl``), three kinds of (question, article) pairs:

- ``answerable``: each question asked against the folder's articles loaded together: label 1;
- ``absent``: each question asked against all the other articles of the folder: label 0;
- ``removed``: each question asked against its own article without the paragraph that holds its
  answer (:mod:`qa.removed`), skipped when the answer's text is still elsewhere: label 0.

An example keeps the signals of the engine's first passage (:class:`qa.decision.Evidence`) and its
article, by which folds are grouped so that a model is never scored on an article it saw. English
questions (judged on the dense score alone), questions about the article itself and questions with
no content word are not examples of the learned decision and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.article import Article, load_articles
from qa.datasets import Question, read_piaf
from qa.encoder import Encoder
from qa.engine import Engine
from qa.index import build
from qa.removed import question_cut, without
from qa.settings import Settings

KINDS = ("answerable", "absent", "removed")


@dataclass(frozen=True)
class Example:
    """One labelled question: its signals for the engine's first passage, and where it comes from."""

    question: str
    kind: str
    label: int
    group: str  # the article the question was written about
    signals: dict[str, float]


def engine_over(articles: list[Article], encoder: Encoder, settings: Settings) -> Engine:
    """An engine over ``articles``, its index built in memory."""
    return Engine(articles, encoder, build(articles, encoder), settings)


def _asked(engine: Engine, questions: Iterable[Question], kind: str, label: int) -> list[Example]:
    out = []
    for question in questions:
        answer = engine.ask(question.text)
        signals = getattr(answer.decision, "signals", None)
        if not signals or answer.decision.reason.startswith("question en anglais"):
            continue
        out.append(Example(question.text, kind, label, str(question.article), dict(signals)))
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
    out = _asked(engine_over(articles, encoder, settings), questions, "answerable", 1)
    for article in articles:
        others = [a for a in articles if a is not article]
        asked = [q for q in questions if q.article == article.id]
        if others and asked:
            out += _asked(engine_over(others, encoder, settings), asked, "absent", 0)
    by_id = {a.id: a for a in articles}
    for question in questions:
        if cut := question_cut(question, by_id):
            article = without(by_id[cut.article], cut, cut_folder / cut.article)
            out += _asked(engine_over([article], encoder, settings), [question], "removed", 0)
    return out
