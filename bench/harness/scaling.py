"""Exact against approximate search on synthetic corpora: latency, memory, recall@10."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from bench.harness.figures import DIMENSION, RECALL_AT_10, SEARCH_OVER_ENCODE, Row, Summary, timed
from bench.harness.processes import quiet_stderr


def synthetic_corpus(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors in topic clusters, questions near one passage, and random directions.

    A cluster per 100 passages (noise half the centre's norm); a *near* question is a passage
    moved to cosine ~0.9 of it, as e5 puts a question and its answer; a *random* direction has
    no neighbour at all, the worst case for an approximate index.
    """
    centres = rng.standard_normal((max(size // 100, 1), DIMENSION)).astype(np.float32)
    data = centres[rng.integers(0, len(centres), size)]
    data += 0.5 * rng.standard_normal((size, DIMENSION)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    near = data[rng.integers(0, size, 100)] + (0.484 / np.sqrt(DIMENSION)) * rng.standard_normal(
        (100, DIMENSION)
    ).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    random = rng.standard_normal((100, DIMENSION)).astype(np.float32)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return data, near, random


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each exact top-k found in the approximate top-k."""
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))


def search_latency(index: object, queries: np.ndarray, k: int) -> Summary:
    """Single-query searches, as the engine makes them."""
    from qa.index.vectors import search_one

    return Summary.of([timed(lambda q=q: search_one(index, q, k), 1)[0] for q in queries])


def scaling_rows(sizes: Sequence[int], encode_p50: float | None) -> list[Row]:
    """Exact against approximate search on synthetic corpora: latency, memory, recall@10."""
    import faiss

    from qa.index.vectors import APPROXIMATE_THRESHOLD, IVF_PROBES, approximate_index, exact_index
    from qa.settings import Tuning

    k = Tuning().ranking.candidate_units
    rng = np.random.default_rng(0)
    rows = [
        Row(
            "scaling",
            f"switch to the approximate index (IVF, nprobe {IVF_PROBES}) from (units)",
            f"{APPROXIMATE_THRESHOLD:,}",
        )
    ]
    for size in sizes:
        data, near, random = synthetic_corpus(size, rng)
        exact = exact_index(data)
        start = time.perf_counter()
        with quiet_stderr():
            approximate = approximate_index(data)
        built = time.perf_counter() - start
        exact_s = search_latency(exact, near, k)
        approx_s = search_latency(approximate, near, k)
        recalls = [recall_at(approximate.search(q, 10)[1], exact.search(q, 10)[1]) for q in (near, random)]
        used = approx_s if size >= APPROXIMATE_THRESHOLD else exact_s
        mib = [faiss.serialize_index(i).nbytes / 1024**2 for i in (exact, approximate)]
        name = f"{size:,} units"
        rows += [
            Row("scaling", f"{name}: exact search k={k}, p50 / p95 (ms)", str(exact_s)),
            Row(
                "scaling",
                f"{name}: IVF search k={k}, p50 / p95 (ms); IVF build (s)",
                f"{approx_s}; {built:.1f}",
            ),
            Row(
                "scaling",
                f"{name}: IVF recall@10, near questions / random directions",
                f"{recalls[0]:.3f} / {recalls[1]:.3f}",
                *(
                    (f">= {RECALL_AT_10}", min(recalls) >= RECALL_AT_10)
                    if size >= APPROXIMATE_THRESHOLD
                    else ("", None)
                ),
            ),
            Row("scaling", f"{name}: index memory, exact / IVF (MiB)", f"{mib[0]:.1f} / {mib[1]:.1f}"),
        ]
        if encode_p50 and size == max(sizes):
            ratio = used.p50 / encode_p50
            rows.append(
                Row(
                    "scaling",
                    f"{name}: search used by qa / encode alone (medians)",
                    f"{ratio:.3f}x",
                    f"<= {SEARCH_OVER_ENCODE}x",
                    ratio <= SEARCH_OVER_ENCODE,
                )
            )
    return rows
