"""Evaluation inputs (our JSONL, conversations, the PIAF layout, SQuAD) and the evaluation runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.fakes import FakeEncoder, fake_engine_for
from support.paths import SEED

from qa.datasets import Question, read_dataset, read_piaf, read_questions, read_squad
from qa.evalsuite import MemoEncoder, run_suite

PARAGRAPHS = [
    "Le café contient de la caféine, qui retarde l'endormissement de plusieurs heures.",
    "Le vélo en ville réduit la pollution de l'air et le bruit des rues.",
]


def write_piaf(folder: Path) -> None:
    (folder / "articles").mkdir(parents=True)
    for number, text in enumerate(PARAGRAPHS, 1):
        title = ["Café", "Vélo"][number - 1]
        (folder / "articles" / f"piaf_{number:03d}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    source = (folder / "articles" / "piaf_001.md").read_text(encoding="utf-8")
    start = source.index("caféine")
    rows = [
        {
            "id": "p1",
            "q": "Que contient le café ?",
            "article": "piaf_001",
            "start": start,
            "end": start + len("caféine"),
            "answer": "caféine",
        }
    ]
    (folder / "answerable.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (folder / "oos.jsonl").write_text(
        json.dumps({"id": "o1", "q": "Qui a peint la Joconde ?", "from_title": "Joconde"}), encoding="utf-8"
    )


def test_piaf_layout(tmp_path: Path) -> None:
    write_piaf(tmp_path / "piaf")
    data = read_piaf(tmp_path / "piaf")
    assert [p.name for p in data.corpus or ()] == ["piaf_001.md", "piaf_002.md"]
    gold, oos = data.questions
    assert gold.answerable and gold.article == "piaf_001" and gold.kind == "piaf"
    source = (tmp_path / "piaf" / "articles" / "piaf_001.md").read_text(encoding="utf-8")
    assert source[gold.start : gold.end] == "caféine"
    assert not oos.answerable and oos.kind == "out-of-scope"
    assert read_dataset(tmp_path / "piaf").questions == data.questions


def test_piaf_without_articles_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pas d'articles"):
        read_piaf(tmp_path)


def test_squad_file_becomes_markdown_articles_with_exact_offsets(tmp_path: Path) -> None:
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": "Café_et_sommeil",
                "paragraphs": [
                    {
                        "context": PARAGRAPHS[0],
                        "qas": [
                            {
                                "id": "s1",
                                "question": "Que retarde la caféine ?",
                                "is_impossible": False,
                                "answers": [
                                    {
                                        "text": "l'endormissement",
                                        "answer_start": PARAGRAPHS[0].index("l'endormissement"),
                                    }
                                ],
                            },
                            {
                                "id": "s2",
                                "question": "Quel est le prix du café ?",
                                "is_impossible": True,
                                "answers": [],
                            },
                        ],
                    },
                    {
                        "context": "\n" + PARAGRAPHS[1],
                        "qas": [
                            {
                                "id": "s3",
                                "question": "Que réduit le vélo ?",
                                "answers": [
                                    {
                                        "text": "la pollution",
                                        "answer_start": 1 + PARAGRAPHS[1].index("la pollution"),
                                    }
                                ],
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    data = read_squad(path, tmp_path / "out")
    (article,) = data.corpus or ()
    text = article.read_text(encoding="utf-8")
    assert text.startswith("# Café et sommeil\n\n")
    s1, s2, s3 = data.questions
    assert text[s1.start : s1.end] == "l'endormissement" and s1.article == article.stem
    assert text[s3.start : s3.end] == "la pollution"
    assert not s2.answerable
    # the same file read again reuses the articles as they are
    assert read_squad(path, tmp_path / "out").questions == data.questions


def test_squad_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="SQuAD"):
        read_squad(path, tmp_path / "out")


def test_conversations_are_read_with_their_history(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": "c1", "turns": ["Parlez-moi du fer.", "Et les souris ?"], "gold": ["souris"]}\n'
        '{"id": "c2", "turns": ["Et alors ?"], "gold": null}\n',
        encoding="utf-8",
    )
    c1, c2 = read_questions(path)
    assert c1 == Question(
        "c1", "Et les souris ?", ("souris",), "conversation", history=("Parlez-moi du fer.",)
    )
    assert not c2.answerable and c2.history == ()


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
