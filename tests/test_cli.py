"""The command line, in process, with the fake encoder standing in for the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.fakes import FakeEncoder
from support.paths import DATA, REPO, SEED

import qa.cli
import qa.engine
from qa.answer import Answer, Citation, Scores, Status
from qa.article import Span, load_article
from qa.cli import format_answer, run
from qa.web.feedback import FeedbackStore
from qa.web.verifications import VerificationStore


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake encoder wherever the CLI loads a model (conftest clears the QA_* settings)."""
    monkeypatch.setattr(qa.engine, "load_encoder", lambda model, indexed=None: FakeEncoder())


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    return ["--articles", str(SEED), "--index-dir", str(tmp_path / "index")]


def citation(rank: int) -> Citation:
    return Citation(
        rank=rank,
        article="art",
        section=f"Partie {rank}",
        text="Texte.",
        highlight="Texte.",
        start=10 * rank,
        end=10 * rank + 6,
        score=0.91234,
        highlight_start=10 * rank,
        highlight_end=10 * rank + 6,
        scores=Scores(0.9, 1.0, 0.91234),
    )


def test_format_answered() -> None:
    text = format_answer(
        Answer("q", Status.ANSWERED, "D'après l'article : « Texte. »", [citation(1), citation(2)])
    )
    assert text.splitlines() == [
        "D'après l'article : « Texte. »",
        "",
        "Sources :",
        "[1] art — « Partie 1 » (caractères 10-16, score 0.912)",
        "[2] art — « Partie 2 » (caractères 20-26, score 0.912)",
    ]


def test_format_no_answer_says_passages_do_not_answer() -> None:
    text = format_answer(Answer("q", Status.NO_ANSWER, "L'article ne répond pas.", [citation(1)]))
    assert "Passages les plus proches (ils ne répondent pas) :" in text
    assert "Sources" not in text and "[1] art" in text


@pytest.mark.parametrize("status", [Status.INVALID, Status.SMALLTALK])
def test_format_without_passages_is_the_message(status: Status) -> None:
    assert format_answer(Answer("q", status, "Bonjour !")) == "Bonjour !"


def test_ask_without_question(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert run(["ask", *where]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "qa : erreur : indiquez une question, ou --batch FICHIER"


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["ask", "--nope", "q"], ["eval"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: qa") and "Traceback" not in err


def test_help_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["ask", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "la question (ou --batch FICHIER)" in out and "--no-rebuild" in out


def test_ask_json(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert run(["ask", "--json", "leucemie fer", *where]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["question"] == "leucemie fer"
    assert set(answer) == {"question", "status", "message", "passages", "verified"}
    source = SEED.read_text(encoding="utf-8")
    for passage in answer["passages"]:
        assert source[passage["start"] : passage["end"]] == passage["text"]


def test_ask_json_scores(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert run(["ask", "--json", "--scores", "leucemie fer", *where]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "decision" in answer and "scores" in answer["passages"][0]


def test_ask_text(capsys: pytest.CaptureFixture[str], where: list[str]) -> None:
    assert run(["ask", "Bonjour", *where]) == 0
    assert capsys.readouterr().out.startswith("Bonjour !")
    assert run(["ask", "Quelle est la hauteur de la tour Eiffel ?", *where]) == 0
    out = capsys.readouterr().out
    assert out.startswith("L'article ne répond pas") and "[1] 000_77dfe58a8330a326" in out


def test_ask_batch(capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text(
        "leucemie fer\n\nBonjour\r\n   \n\nQuelle est la hauteur de la tour Eiffel ?",
        encoding="utf-8",
    )
    assert run(["ask", "--json", "--batch", str(batch), *where]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["question"] for a in answers] == [
        "leucemie fer",
        "Bonjour",
        "Quelle est la hauteur de la tour Eiffel ?",
    ]
    assert answers[1]["status"] == "smalltalk"


def test_ask_batch_from_stdin(
    capsys: pytest.CaptureFixture[str], where: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("merci\nau revoir\n"))
    assert run(["ask", "--json", "--batch", "-", *where]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["status"] for a in answers] == ["smalltalk", "smalltalk"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: ["--batch", str(tmp / "absent.txt")], "absent.txt"),
        (lambda tmp: ["--batch", str(tmp / "latin1.txt")], "utf-8"),
    ],
    ids=["missing-batch", "latin1-batch"],
)
def test_batch_file_errors(
    capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path, make, words: str
) -> None:
    (tmp_path / "latin1.txt").write_bytes("Qu'est-ce qu'un Élément ?".encode("latin-1"))
    assert run(["ask", *make(tmp_path), *where]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("qa : erreur : ") and words in err and "Traceback" not in err


def test_bad_articles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "vide"
    empty.mkdir()
    assert run(["ask", "q", "--articles", str(empty), "--index-dir", str(tmp_path / "i")]) == 2
    assert "aucun article trouvé" in capsys.readouterr().err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Élément".encode("latin-1"))
    assert run(["ask", "q", "--articles", str(latin), "--index-dir", str(tmp_path / "i")]) == 2
    assert "n'est pas en UTF-8" in capsys.readouterr().err


def test_no_rebuild(capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path) -> None:
    assert run(["ask", "leucemie fer", "--no-rebuild", *where]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa : erreur : index ") and str(tmp_path / "index") in err
    assert run(["index", *where]) == 0
    assert capsys.readouterr().out.startswith(f"index prêt : {tmp_path / 'index'} (")
    assert run(["ask", "leucemie fer", "--no-rebuild", *where]) == 0


def test_index_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run(["index", "--articles", str(SEED), str(DATA), "--index-dir", str(index)]) == 0
    out = capsys.readouterr().out
    assert "3 article(s)" in out and "modèle fake" in out
    assert (index / "manifest.json").is_file()


def test_environment_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_ARTICLES", str(DATA))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "env-index"))
    monkeypatch.setenv("QA_MAX_CHARS", "10")
    assert run(["ask", "--json", "une question bien trop longue"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"
    assert (tmp_path / "env-index" / "manifest.json").is_file()
    # flags win over the environment
    assert run(["index", "--index-dir", str(tmp_path / "flag-index")]) == 0
    assert (tmp_path / "flag-index" / "manifest.json").is_file()


def test_eval_command(capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "q": "leucemie fer", "gold": ["utilisation du fer"], "kind": "kw"}\n'
        '{"id": "b", "q": "Quelle est la hauteur de la tour Eiffel ?"}\n',
        encoding="utf-8",
    )
    assert run(["eval", str(questions), "--json", *where]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    metrics = only["systems"]["engine"]
    assert metrics["overall"]["n"] == 2 and set(metrics["by_kind"]) == {"kw", "out-of-scope"}
    assert run(["eval", str(questions), "--baselines", *where]) == 0
    out = capsys.readouterr().out
    assert "[engine]" in out and "[naive]" in out and "[bm25]" in out
    assert any(line.startswith("TOTAL") for line in out.splitlines())


def test_eval_bad_file(capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("pas du json\n", encoding="utf-8")
    assert run(["eval", str(questions), *where]) == 2
    assert "ligne invalide" in capsys.readouterr().err


def test_undecodable_argument_gets_an_invalid_answer(
    capsys: pytest.CaptureFixture[str], where: list[str]
) -> None:
    assert run(["ask", "--json", "cancer \udcff", *where]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"


def test_bench_has_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["bench", "--help"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("usage: qa bench")


def test_bench_is_found_in_the_checkout_and_stays_out_of_the_library(tmp_path: Path) -> None:
    """``import qa`` and its modules load no benchmark; ``qa bench`` finds bench/ from any directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    code = (  # every module of the library
        "import sys, pkgutil, importlib, qa; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(qa.__path__, 'qa.')]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'bench'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr[-2000:]
    helped = subprocess.run(
        [sys.executable, "-c", "from qa.cli import main; main()", "bench", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert helped.returncode == 0 and helped.stdout.startswith("usage: qa bench"), helped.stderr[-2000:]


def test_bench_outside_a_checkout_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(qa.cli, "__file__", str(tmp_path / "site-packages" / "qa" / "cli.py"))
    monkeypatch.chdir(tmp_path)
    assert run(["bench", "--quick"]) == 2
    assert "qa bench : erreur : " in capsys.readouterr().err


def test_batch_lines_may_be_conversations(
    capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path
) -> None:
    batch = tmp_path / "batch.txt"
    batch.write_text(
        'leucemie fer\n["Qu\'est-ce que la ferroptose ?", "Et qu\'est-ce qui la catalyse ?"]\n[pas du json\n',
        encoding="utf-8",
    )
    assert run(["ask", "--json", "--batch", str(batch), *where]) == 0
    plain, followed, odd = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert "context" not in plain
    assert followed["question"] == "Et qu'est-ce qui la catalyse ?"
    assert followed["context"] == {"from": "Qu'est-ce que la ferroptose ?"}
    assert odd["question"] == "[pas du json"  # not an array: asked as it is


def test_article_scope(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    where = ["--articles", str(SEED), str(DATA), "--index-dir", str(tmp_path / "index")]
    assert run(["ask", "--json", "--article", "cafe_sommeil", "leucemie fer", *where]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {p["article"] for p in answer["passages"]} == {"cafe_sommeil"}
    assert run(["ask", "--article", "absent", "leucemie fer", *where]) == 2
    assert "Article inconnu : absent. Articles : " in capsys.readouterr().err


def test_eval_writes_its_tables_into_a_doc(
    capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "q": "leucemie fer", "gold": ["utilisation du fer"]}\n', encoding="utf-8"
    )
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        "# Évaluation\n\nAvant.\n\n<!-- qa eval -->\nanciens chiffres\n<!-- /qa eval -->\n\nAprès.\n",
        encoding="utf-8",
    )
    assert run(["eval", str(questions), "--baselines", "--write", str(doc), *where]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "anciens chiffres" not in text and text.startswith("# Évaluation\n\nAvant.")
    assert text.endswith("<!-- /qa eval -->\n\nAprès.\n")
    assert "| engine | TOTAL |" in text and "| naive | TOTAL |" in text and "| bm25 | TOTAL |" in text
    assert f"`qa eval {questions} --baselines" in text
    doc.write_text("sans marques", encoding="utf-8")
    assert run(["eval", str(questions), "--write", str(doc), *where]) == 2


def test_verified_export_is_read_back_by_eval(
    capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path
) -> None:
    article = load_article(SEED)
    passage = article.passages[2]
    records = VerificationStore(FeedbackStore(tmp_path / "feedback.sqlite3"))
    kept = records.add(
        "Quel hôpital a mené l'essai ?", None, article, Span(passage.start, passage.end), None, "léa"
    )
    records.add("Combien coûte l'essai ?", None, None, None, None, "léa")
    withdrawn = records.add(
        "Qui finance l'essai ?", None, article, Span(passage.start, passage.end), None, "léa"
    )
    assert kept and withdrawn and records.withdraw(withdrawn.verification.id, "léa").value == "done"
    out = tmp_path / "verified.jsonl"
    store = ["--store", str(tmp_path / "feedback.sqlite3"), "--out", str(out)]
    assert run(["verified", "export", *where, *store]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("q") for r in rows] == ["Combien coûte l'essai ?", "Quel hôpital a mené l'essai ?"]
    assert rows[1]["gold"] == [article.text(passage)] and "gold" not in rows[0]
    capsys.readouterr()
    assert run(["eval", *where, "--json", str(out)]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["systems"]["engine"]["overall"]["n"] == 2


def test_verified_export_without_a_store_says_so(
    capsys: pytest.CaptureFixture[str], where: list[str], tmp_path: Path
):
    assert run(["verified", "export", *where, "--store", str(tmp_path / "none.sqlite3")]) == 2
    assert "pas de journal" in capsys.readouterr().err
