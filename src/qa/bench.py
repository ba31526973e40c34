"""``qa bench``: latency, start-up, memory and scaling figures, printed as one table.

Everything runs on this machine in one go, so the ratios compare like with like. HTTP figures
are taken when ``--url`` points at a running app (``make run``).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SAMPLE_QUESTIONS = [
    "Qui est l'auteur ?", "leucemie fer", "cancer du sien metastatik", "indole 3 carbinol",
    "Sur quelles cellules agit la tri-thérapie ?", "What is ferroptosis?",
    "Comment cuisiner des lentilles ?", "Les légumes verts renforcent-ils l'immunothérapie ?",
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds, of durations in seconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock durations of ``repeats`` calls."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return durations


def _command_seconds(argv: list[str]) -> tuple[float, float]:
    """Wall time of a command and its peak RSS in MB."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kb / 1024


def in_process(rows: list[tuple[str, str]], repeats: int) -> None:
    """Warm answer against encoding alone, the naive baseline, and index build time."""
    from qa.engine import Engine, Settings
    from qa.index import build

    engine = Engine.load(Settings())
    questions = SAMPLE_QUESTIONS * repeats
    for q in SAMPLE_QUESTIONS:
        engine.ask(q)
    answer = percentiles([t for q in questions for t in timed(lambda q=q: engine.ask(q), 1)])
    encode = percentiles([t for q in questions for t in timed(
        lambda q=q: engine.encoder.encode_queries([q]), 1)])
    sections = np.stack([engine.vectors[u[0]] for u in engine.section_units])
    naive = percentiles([t for q in questions for t in timed(
        lambda q=q: int(np.argmax(sections @ engine.encoder.encode_queries([q])[0])), 1)])
    rows.append(("warm answer p50 / p95 (ms)", f"{answer[0]:.1f} / {answer[1]:.1f}"))
    rows.append(("encode question alone p50 / p95 (ms)", f"{encode[0]:.1f} / {encode[1]:.1f}"))
    rows.append(("answer / encode (median)", f"{answer[0] / encode[0]:.2f}x"))
    rows.append(("naive card (e5 over sections) p50 (ms)", f"{naive[0]:.1f}"))
    start = time.perf_counter()
    build(engine.articles, engine.encoder)
    rows.append(("index build, 1 article (s)", f"{time.perf_counter() - start:.2f}"))


def cold_start(rows: list[tuple[str, str]]) -> None:
    """Process start to first answer, against a bare sentence-transformers import."""
    qa = str(Path(sys.executable).with_name("qa"))
    bare, _ = _command_seconds([sys.executable, "-c", "import sentence_transformers"])
    first, peak = _command_seconds([qa, "ask", "--json", "Qui est l'auteur ?"])
    rows.append(("cold `qa ask` (s)", f"{first:.2f}"))
    rows.append(("bare `import sentence_transformers` (s)", f"{bare:.2f}"))
    rows.append(("cold ratio", f"{first / bare:.2f}x"))
    rows.append(("peak RSS of `qa ask` (MB)", f"{peak:.0f}"))


def scaling(rows: list[tuple[str, str]], sizes: tuple[int, ...]) -> None:
    """FAISS exact against HNSW on synthetic unit vectors: latency and recall@10."""
    import faiss

    rng = np.random.default_rng(0)
    queries = rng.standard_normal((50, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    for size in sizes:
        # Clustered vectors, closer to real embeddings than uniform noise.
        centres = rng.standard_normal((max(size // 100, 1), 384)).astype(np.float32)
        data = centres[rng.integers(0, len(centres), size)] + 0.5 * rng.standard_normal(
            (size, 384)).astype(np.float32)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        flat = faiss.IndexFlatIP(384)
        flat.add(data)
        hnsw = faiss.IndexHNSWFlat(384, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(data)
        hnsw.hnsw.efSearch = 128
        _, exact = flat.search(queries, 10)
        _, approx = hnsw.search(queries, 10)
        recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
        flat_ms = percentiles(timed(lambda f=flat: f.search(queries[:1], 10), 50))[0]
        hnsw_ms = percentiles(timed(lambda h=hnsw: h.search(queries[:1], 10), 50))[0]
        rows.append((f"{size:>7} passages: flat / HNSW p50 (ms), HNSW recall@10",
                     f"{flat_ms:.2f} / {hnsw_ms:.2f}, {recall:.3f}"))


def http(rows: list[tuple[str, str]], url: str, per_client: int) -> None:
    """``POST /api/ask`` latency at 1, 4 and 16 concurrent clients."""
    import httpx

    for clients in (1, 4, 16):
        durations: list[float] = []
        errors = 0
        lock = threading.Lock()

        def client(n: int) -> None:
            nonlocal errors
            with httpx.Client(base_url=url, timeout=60) as session:
                for i in range(per_client):
                    question = SAMPLE_QUESTIONS[(n + i) % len(SAMPLE_QUESTIONS)]
                    start = time.perf_counter()
                    response = session.post("/api/ask", json={"question": question})
                    with lock:
                        durations.append(time.perf_counter() - start)
                        errors += response.status_code >= 500

        start = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        p50, p95 = percentiles(durations)
        rows.append((f"POST /api/ask, {clients} clients p50 / p95 (ms), req/s, 5xx",
                     f"{p50:.1f} / {p95:.1f}, {len(durations) / wall:.1f}, {errors}"))


def main(argv: list[str]) -> int:
    """Run the benchmark and print the table (``--json`` for machine-readable rows)."""
    import argparse

    parser = argparse.ArgumentParser(prog="qa bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--url", help="URL of a running app, for the HTTP figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory():
        in_process(rows, args.repeats)
        cold_start(rows)
        scaling(rows, tuple(args.sizes))
        if args.url:
            http(rows, args.url.rstrip("/"), args.repeats * 5)
    if args.json:
        print(json.dumps(dict(rows), ensure_ascii=False, indent=1))
    else:
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
    return 0
