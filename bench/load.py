"""Load test for the web app: N concurrent clients on ``POST /api/ask`` and on Gradio's ``/ask``.

Bounded by design: it runs for ``--seconds`` or until ``--requests`` answers, whichever the
arguments say, and only ever talks to the ``--url`` it is given (keep it on 127.0.0.1).

    python bench/load.py --url http://127.0.0.1:7860/ --clients 16 --seconds 60 --endpoint both
    python bench/load.py --url http://127.0.0.1:7860/ --requests 10000 --pid 1234 --rss-every 5

It prints, per endpoint: requests answered, throughput, latency p50/p95/p99/max, HTTP statuses,
5xx, connection errors (refused, reset, timed out: "dropped"), answers that break the JSON
contract and, with ``--pid``, the server's resident memory (VmRSS) before, during and after.
Uses only the standard library, httpx and gradio_client, so that it runs from the app's venv.

Longer than 250 lines on purpose: a self-contained load-test script, run by hand (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

QUESTIONS = (
    "Quel élément catalyse la dégradation des membranes dans la ferroptose ?",
    "Qui a écrit l'article ?",
    "Quand l'article a-t-il été publié ?",
    "Quel type de leucémie est concerné par la découverte ?",
    "Quel rôle joue l'indole-3-carbinol ?",
    "Sur quel animal l'approche a-t-elle été testée ?",
    "Quelle est la hauteur de la tour Eiffel ?",
    "What role does cabbage play in immunotherapy?",
    "leucemie fer",
    "Bonjour",
    "<img src=x onerror=alert(1)> immunothérapie **gras** [lien](javascript:alert(1))",
    "\u202eQui a écrit l'article ?\x00",
    "   ",
    "a" * 600,
)
STATUSES = {"answered", "no_answer", "invalid", "smalltalk"}


@dataclass
class Report:
    """What one run measured."""

    endpoint: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connection_errors: Counter = field(default_factory=Counter)
    other_errors: Counter = field(default_factory=Counter)
    broken_contract: int = 0
    seconds: float = 0.0
    rss_kib: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, latency: float, status: int | str, contract_ok: bool = True) -> None:
        """Count one answered request."""
        with self.lock:
            self.latencies.append(latency)
            self.statuses[status] += 1
            self.broken_contract += not contract_ok

    def fail(self, kind: Counter, name: str) -> None:
        """Count one request that got no HTTP answer (``connection_errors``) or raised."""
        with self.lock:
            kind[name] += 1

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status (a full Gradio queue counts as 503)."""
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and s >= 500)

    def summary(self) -> dict:
        """The figures, rounded, as a plain dict."""
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float:
            return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000, 1) if ordered else 0.0

        out = {
            "endpoint": self.endpoint,
            "clients": self.clients,
            "requests": len(ordered),
            "seconds": round(self.seconds, 1),
            "throughput_per_s": round(len(ordered) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": quantile(0.50),
            "p95_ms": quantile(0.95),
            "p99_ms": quantile(0.99),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=str)},
            "server_errors_5xx": self.server_errors,
            "connection_errors": sum(self.connection_errors.values()),
            "connection_error_kinds": dict(self.connection_errors),
            "other_errors": dict(self.other_errors),
            "broken_contract": self.broken_contract,
        }
        if self.rss_kib:
            values = [kib for _, kib in self.rss_kib]
            out["rss_mib"] = {
                "before": round(values[0] / 1024, 1),
                "after": round(values[-1] / 1024, 1),
                "max": round(max(values) / 1024, 1),
                "samples": [[round(t, 1), round(k / 1024, 1)] for t, k in self.rss_kib],
            }
        return out


def rss_kib(pid: int) -> int | None:
    """Resident memory of process ``pid`` in KiB (``VmRSS``), ``None`` when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Budget:
    """Hands out request numbers until the deadline or the request count is reached."""

    def __init__(self, seconds: float | None, requests: int | None) -> None:
        """Stop ``seconds`` after :meth:`start`, or after ``requests`` in all."""
        if seconds is None and requests is None:
            raise ValueError("give seconds or requests")
        self.seconds = seconds
        self.deadline: float | None = None
        self.remaining = requests
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the clock (called once every client is connected)."""
        if self.seconds is not None:
            self.deadline = time.monotonic() + self.seconds

    def next(self) -> bool:
        """Whether another request may be sent."""
        with self.lock:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return False
            if self.remaining is not None:
                if self.remaining <= 0:
                    return False
                self.remaining -= 1
            return True


def contract_ok(body: object) -> bool:
    """Whether ``body`` looks like the JSON contract."""
    return (
        isinstance(body, dict)
        and body.get("status") in STATUSES
        and isinstance(body.get("message"), str)
        and isinstance(body.get("passages"), list)
    )


def api_worker(url: str, budget: Budget, report: Report, ready: threading.Barrier) -> None:
    """One client of ``POST /api/ask`` on a keep-alive connection."""
    with httpx.Client(base_url=url, timeout=60) as client:
        ready.wait()
        n = client_number()
        while budget.next():
            n += 1
            question = QUESTIONS[n % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                response = client.post("api/ask", json={"question": question})
            except httpx.TransportError as error:
                report.fail(report.connection_errors, type(error).__name__)
                continue
            latency = time.perf_counter() - start
            ok = response.status_code != 200 or contract_ok(response.json())
            report.record(latency, response.status_code, ok)


def gradio_worker(url: str, budget: Budget, report: Report, ready: threading.Barrier) -> None:
    """One ``gradio_client.Client`` calling the named ``/ask`` endpoint."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    client = None
    try:
        client = Client(url, verbose=False)
    except Exception as error:  # noqa: BLE001 - counted, the other clients go on
        report.fail(report.connection_errors, f"connect: {type(error).__name__}")
    finally:
        ready.wait()
    n = client_number()
    while client is not None and budget.next():
        n += 1
        question = QUESTIONS[n % len(QUESTIONS)]
        start = time.perf_counter()
        try:
            body = client.predict(question, api_name="/ask")
        except httpx.HTTPStatusError as error:
            report.record(time.perf_counter() - start, error.response.status_code)
            continue
        except QueueError:
            report.record(time.perf_counter() - start, 503)
            continue
        except httpx.TransportError as error:
            report.fail(report.connection_errors, type(error).__name__)
            continue
        except AppError as error:  # gr.Error: e.g. "service très sollicité"
            report.fail(report.other_errors, f"AppError: {error}"[:80])
            continue
        except Exception as error:  # noqa: BLE001 - a load test counts failures, it does not stop
            report.fail(report.other_errors, type(error).__name__)
            continue
        report.record(time.perf_counter() - start, 200, contract_ok(body))


_numbers = iter(range(10**9))
_numbers_lock = threading.Lock()


def client_number() -> int:
    """A different starting question for each client, so that they do not ask in step."""
    with _numbers_lock:
        return next(_numbers) * 5


WORKERS = {"api": api_worker, "gradio": gradio_worker}


def run(
    endpoint: str,
    url: str,
    clients: int = 16,
    seconds: float | None = None,
    requests: int | None = None,
    pid: int | None = None,
    rss_every: float = 5.0,
) -> Report:
    """Run ``clients`` threads against ``endpoint`` (``api`` or ``gradio``) and measure.

    The clock starts once every client is connected (Gradio clients fetch the app's config).
    """
    url = url if url.endswith("/") else url + "/"
    report = Report(endpoint, clients)
    budget = Budget(seconds, requests)
    ready = threading.Barrier(clients + 1, action=budget.start)
    threads = [
        threading.Thread(target=WORKERS[endpoint], args=(url, budget, report, ready), daemon=True)
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    stop = threading.Event()
    sampler = None
    if pid is not None:
        report.rss_kib.append((0.0, rss_kib(pid) or 0))
        sampler = threading.Thread(target=_sample_rss, args=(pid, rss_every, report, stop), daemon=True)
    ready.wait()
    began = time.monotonic()
    if sampler is not None:
        sampler.start()
    for thread in threads:
        thread.join()
    report.seconds = time.monotonic() - began
    stop.set()
    if sampler is not None:
        sampler.join()
    return report


def _sample_rss(pid: int, every: float, report: Report, stop: threading.Event) -> None:
    began = time.monotonic()
    while not stop.wait(every):
        if (kib := rss_kib(pid)) is not None:
            report.rss_kib.append((time.monotonic() - began, kib))
    if (kib := rss_kib(pid)) is not None:
        report.rss_kib.append((time.monotonic() - began, kib))


def format_summary(summary: dict) -> str:
    """A few readable lines for one run."""
    lines = [
        f"[{summary['endpoint']}] {summary['clients']} clients, {summary['requests']} requests in "
        f"{summary['seconds']} s: {summary['throughput_per_s']} req/s",
        f"  latency ms: p50 {summary['p50_ms']}  p95 {summary['p95_ms']}  p99 {summary['p99_ms']}  "
        f"max {summary['max_ms']}",
        f"  statuses {summary['statuses']}  5xx {summary['server_errors_5xx']}  "
        f"connection errors {summary['connection_errors']} {summary['connection_error_kinds'] or ''}  "
        f"other errors {summary['other_errors'] or 0}  broken contract {summary['broken_contract']}",
    ]
    if "rss_mib" in summary:
        rss = summary["rss_mib"]
        lines.append(f"  server RSS MiB: before {rss['before']}  after {rss['after']}  max {rss['max']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the app, e.g. http://127.0.0.1:7860/")
    parser.add_argument("--clients", type=int, default=16)
    bound = parser.add_mutually_exclusive_group()
    bound.add_argument("--seconds", type=float, help="run this long (default 60)")
    bound.add_argument("--requests", type=int, help="stop after this many requests in all")
    parser.add_argument("--endpoint", choices=("api", "gradio", "both"), default="both")
    parser.add_argument("--pid", type=int, help="the server's process id, to sample its RSS")
    parser.add_argument("--rss-every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.seconds is None and args.requests is None:
        args.seconds = 60.0
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if any 5xx, connection error or broken answer was seen."""
    args = parse_args(argv)
    endpoints = ("api", "gradio") if args.endpoint == "both" else (args.endpoint,)
    summaries = []
    for endpoint in endpoints:
        report = run(endpoint, args.url, args.clients, args.seconds, args.requests, args.pid, args.rss_every)
        summary = report.summary()
        summaries.append(summary)
        print(format_summary(summary), flush=True)  # noqa: T201 - a script reports on stdout
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1, ensure_ascii=False) + "\n")
    bad = any(
        s["server_errors_5xx"] or s["connection_errors"] or s["broken_contract"] or s["other_errors"]
        for s in summaries
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
