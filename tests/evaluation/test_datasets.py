"""qa.evaluation.datasets: our JSONL files, conversations, the PIAF layout and SQuAD files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from piaf_sample import PARAGRAPHS, write_piaf
from support.paths import REPO

from qa.evaluation.datasets import Question, read_dataset, read_piaf, read_questions, read_squad


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


def test_read_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "q": "Question ?", "gold": ["x", "y"], "kind": "direct"},
        {"q": "Hors sujet ?"},
        {"id": 7, "q": "Sans type", "gold": ["z"]},
    ]
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:2])
        + "\n\n  \n"
        + json.dumps(rows[2])
        + "\n",
        encoding="utf-8",
    )
    questions = read_questions(path)
    assert questions == [
        Question("a", "Question ?", ("x", "y"), "direct"),
        Question("2", "Hors sujet ?", (), "out-of-scope"),
        Question("7", "Sans type", ("z",), "answerable"),
    ]
    assert [x.answerable for x in questions] == [True, False, True]


@pytest.mark.parametrize("line", ['{"id": "a"}', "pas du json", "[1, 2]", '"texte"'])
def test_read_questions_rejects_bad_lines(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"q": "bonne"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"{path}:2 : ligne invalide"):
        read_questions(path)


def test_repository_question_files_are_well_formed() -> None:
    root = REPO / "eval"
    files = sorted(root.glob("*.jsonl"))
    assert files
    for path in files:
        questions = read_questions(path)
        assert questions and len({x.id for x in questions}) == len(questions)
        expect_gold = "oos" not in path.name
        assert all(x.answerable == expect_gold for x in questions), path
