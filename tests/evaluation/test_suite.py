"""qa.evaluation.suite: every data set asked of its corpus, the engine beside the baselines."""

from __future__ import annotations

from pathlib import Path

import pytest
from piaf_sample import write_piaf
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import SEED

from qa.evaluation.suite import MemoEncoder, run_suite


def test_memo_encoder_embeds_each_text_once() -> None:
    inner = FakeEncoder()
    memo = MemoEncoder(inner)
    first = memo.encode_passages(["un", "deux", "un"])
    again = memo.encode_passages(["deux", "un"])
    assert inner.passage_calls == 1
    assert (first[1] == again[0]).all() and (first[0] == first[2]).all()


def test_suite_runs_every_corpus_size_with_the_baselines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    write_piaf(tmp_path / "piaf")
    own = tmp_path / "own.jsonl"
    own.write_text('{"id": "a", "q": "leucemie fer", "gold": ["utilisation du fer"]}\n', encoding="utf-8")
    engine = fake_engine_for((SEED,), tmp_path / "index")
    runs = run_suite([own, tmp_path / "piaf"], engine, baselines=True, alone=True, plus=(SEED,))
    assert [r.title for r in runs] == [
        "own",
        "piaf (2 articles)",
        "piaf, chaque article seul",
        "piaf + 000_77dfe58a8330a326.txt",
    ]
    for run in runs:
        assert set(run.reports) == {"engine", "naive", "bm25"}
    piaf = runs[1].reports["engine"].overall
    assert (piaf.answerable, piaf.out_of_scope) == (1, 1)
    assert runs[2].reports["engine"].overall.answerable == 1  # asked of its own article alone
    assert runs[1].reports["engine"].overall.top1 == 1  # the fake encoder finds the café paragraph
