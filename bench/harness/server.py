"""The app in a subprocess under load: ``python app.py``, and ``uvicorn --workers N``.

Longer than 250 lines on purpose: the app is started, loaded and measured from outside as one
scenario (start-to-ready, peak memory, answers per second on 1 and 2 workers).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.figures import (
    API_OVER_ANSWER,
    CLOSE_QUESTION,
    COLD_QUESTION,
    READY_OVER_GRADIO,
    SAMPLE_QUESTIONS,
    SERVER_PEAK_MIB,
    Row,
    Summary,
    percentile,
)
from bench.harness.processes import children, cpu_seconds, free_port, peak_rss_mib, run_measured


@dataclass
class Server:
    """A web server started in a subprocess on 127.0.0.1, ready when ``ready_lines`` appear."""

    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    ready_seconds: float = 0.0
    process: subprocess.Popen | None = None
    log: Path | None = None
    cwd: Path | None = None  # the folder it runs in (None: this one)

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240) -> None:
        """Start it and wait until every worker has started and ``/healthz`` answers.

        Raises:
            RuntimeError: when it exits or is not ready in ``timeout`` seconds (log tail).
        """
        import httpx

        handle, name = tempfile.mkstemp(prefix="qa-bench-server-", suffix=".log")
        self.log = Path(name)
        start = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **self.env}, cwd=self.cwd
        )
        os.close(handle)
        while time.perf_counter() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.tail()}")
            started = self.log.read_text(errors="replace").count("Application startup complete")
            if started >= self.workers:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                        self.ready_seconds = time.perf_counter() - start
                        return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.tail()}")

    def pids(self) -> list[int]:
        """The process that answers, or each of its workers."""
        return children(self.process.pid) if self.workers > 1 else [self.process.pid]

    def peak_rss(self) -> list[float]:
        """Peak RSS in MiB of the server, or of each of its workers."""
        return [peak_rss_mib(pid) for pid in self.pids()]

    def tail(self) -> str:
        """The end of the server's output."""
        return self.log.read_text(errors="replace")[-800:] if self.log else ""

    def stop(self) -> None:
        """Ask it to stop (SIGTERM), kill it after 20 s, remove its log."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.unlink(missing_ok=True)


def server_env(feedback_db: Path, threads: int | None = None) -> dict[str, str]:
    """Environment of a benchmarked server: log to a scratch database, no per-client limit."""
    env = {
        "GRADIO_ANALYTICS_ENABLED": "False",
        "QA_FEEDBACK_DB": str(feedback_db),
        "QA_RATE_LIMIT": "1000000",
    }
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


@dataclass
class Load:
    """Latencies (s), failures and wall time of one load level."""

    durations: list[float] = field(default_factory=list)
    failures: int = 0
    wall: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU the server's processes spent during the level

    def row(self, part: str, endpoint: str, clients: int) -> Row:
        """``p50 / p95 (ms); req/s; server CPU ms per request; failures``."""
        summary = Summary.of(self.durations) if self.durations else Summary(0, 0, 0)
        rate = len(self.durations) / self.wall if self.wall else 0.0
        cpu = self.server_cpu * 1000 / len(self.durations) if self.durations else 0.0
        return Row(
            part,
            f"{endpoint}, {clients} client{'s' * (clients > 1)}: p50 / p95 (ms); "
            "req/s; server CPU per request (ms); failed",
            f"{summary}; {rate:.1f}; {cpu:.0f}; {self.failures}",
        )


def run_load(connect: Callable[[], Callable[[str], bool]], clients: int, per_client: int) -> Load:
    """``clients`` threads, each connected once, each asking ``per_client`` questions in a row."""
    load = Load()
    lock = threading.Lock()
    calls = [connect() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        barrier.wait()
        for i in range(per_client):
            question = SAMPLE_QUESTIONS[(n + i) % len(SAMPLE_QUESTIONS)]
            start = time.perf_counter()
            try:
                ok = calls[n](question)
            except Exception:  # noqa: BLE001 - any client error counts as a failed request
                ok = False
            with lock:
                load.durations.append(time.perf_counter() - start)
                load.failures += not ok

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    load.wall = time.perf_counter() - start
    return load


def api_client(url: str) -> Callable[[], Callable[[str], bool]]:
    """A factory of ``POST /api/ask`` callers, one HTTP connection each."""
    import httpx

    def connect() -> Callable[[str], bool]:
        session = httpx.Client(base_url=url, timeout=60)

        def ask(question: str) -> bool:
            response = session.post("/api/ask", json={"question": question})
            return response.status_code == 200 and "status" in response.json()

        return ask

    return connect


def _client(url: str, timeout: float) -> object:
    """A quiet ``gradio_client.Client`` of the app at ``url``, a new session."""
    from gradio_client import Client

    return Client(
        url + "/",
        verbose=False,
        analytics_enabled=False,
        download_files=False,
        httpx_kwargs={"timeout": timeout},
    )


def gradio_client(url: str) -> Callable[[], Callable[[str], bool]]:
    """A factory of Gradio ``/ask`` callers (``gradio_client.Client``), one session each."""

    def connect() -> Callable[[str], bool]:
        client = _client(url, timeout=60)

        def ask(question: str) -> bool:
            result = client.predict(question, api_name="/ask")
            return isinstance(result, dict) and "status" in result

        return ask

    return connect


def gradio_affinity_probe(url: str, tries: int = 6) -> int:
    """How many of ``tries`` Gradio ``/ask`` calls, each from a new session, answer within 10 s.

    Gradio's queue keeps a session in the process that accepted it; across workers without
    session affinity its calls can land on a process that does not know the session.
    """
    answered = 0
    for _ in range(tries):
        client = _client(url, timeout=10)
        with contextlib.suppress(Exception):
            result = client.submit(COLD_QUESTION, api_name="/ask").result(timeout=10)
            answered += isinstance(result, dict) and "status" in result
        with contextlib.suppress(Exception):
            client.close()
    return answered


def load_rows(
    part: str, server: Server, levels: Sequence[int], requests: int, endpoints: Sequence[str]
) -> tuple[list[Row], dict[str, float]]:
    """Both endpoints at each concurrency level; about ``requests`` requests per level.

    Returns the rows, and the median (ms) and rate (req/s) of each ``"endpoint clients"``,
    the rate under ``"... req/s"``.
    """
    factories = {"POST /api/ask": api_client(server.url), "Gradio /ask": gradio_client(server.url)}
    factories[endpoints[0]]()(CLOSE_QUESTION)  # the exact encoder loads: the peak RSS includes it
    rows, medians = [], {}
    for endpoint in endpoints:
        run_load(factories[endpoint], 1, 3)  # warm-up
        for clients in levels:
            before = cpu_seconds(server.pids())
            load = run_load(factories[endpoint], clients, max(2, requests // clients))
            load.server_cpu = cpu_seconds(server.pids()) - before
            rows.append(load.row(part, endpoint, clients))
            if load.durations:
                medians[f"{endpoint} {clients}"] = percentile(load.durations, 50) * 1000
                medians[f"{endpoint} {clients} req/s"] = len(load.durations) / load.wall
    return rows, medians


def app_command(port: int) -> list[str]:
    """``python app.py`` as ``make run`` starts it, on ``port``."""
    code = "import sys; from qa.web.server import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "--host", "127.0.0.1", "--port", str(port)]


def uvicorn_command(port: int, workers: int) -> list[str]:
    """The app under ``uvicorn --workers`` through the factory of :mod:`qa.web.asgi`."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "qa.web.asgi:create_app",
        "--http",
        "qa.web.timeouts:H11WithTimeouts",  # as docs/scaling.md runs it: header timeouts, TCP_NODELAY
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "info",
        "--no-access-log",
    ]


def bare_gradio_import() -> float:
    """Seconds for a fresh interpreter to ``import gradio`` (telemetry off, as the app runs)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    return run_measured([sys.executable, "-c", "import gradio"], env=env)[0]


def server_rows(
    options: argparse.Namespace, answer_p50: float | None, rates: dict[str, float] | None = None
) -> list[Row]:
    """The app in a subprocess: start to ready against a bare ``import gradio``, peak RSS, load.

    The app starts ``--cold-runs`` times (the last one takes the load), alternating with bare
    imports; ``rates`` receives the ``POST /api/ask`` req/s of each level.
    """
    ready, imports = [], []
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        env = server_env(Path(scratch) / "feedback.sqlite3")
        for run in range(options.cold_runs):
            imports.append(bare_gradio_import())
            port = free_port()
            server = Server(app_command(port), port, env)
            server.start()
            ready.append(server.ready_seconds)
            if run < options.cold_runs - 1:
                server.stop()
        try:
            rows, medians = load_rows(
                "server", server, options.clients, options.requests, ("POST /api/ask", "Gradio /ask")
            )
            peak = max(server.peak_rss())
        finally:
            server.stop()
    ratio = percentile(ready, 50) / percentile(imports, 50)
    runs = options.cold_runs
    rows[:0] = [
        Row("server", f"bare `import gradio`, median of {runs} (s)", f"{percentile(imports, 50):.2f}"),
        Row(
            "server",
            f"`python app.py` start to ready (/healthz), median of {runs} (s)",
            f"{percentile(ready, 50):.2f}"
            + (f" (runs {min(ready):.2f}-{max(ready):.2f})" if runs > 1 else ""),
        ),
        Row(
            "server",
            "app ready / bare import gradio",
            f"{ratio:.2f}x",
            f"<= {READY_OVER_GRADIO:g}x",
            ratio <= READY_OVER_GRADIO,
        ),
        Row(
            "server",
            "peak RSS of the server after the load (MiB)",
            f"{peak:.0f}",
            f"<= {SERVER_PEAK_MIB}",
            peak <= SERVER_PEAK_MIB,
        ),
    ]
    if rates is not None:
        rates.update({k: v for k, v in medians.items() if k.startswith("POST") and "req/s" in k})
    api = medians.get("POST /api/ask 1")
    if api and answer_p50:
        ratio = api / answer_p50
        rows.append(
            Row(
                "server",
                "POST /api/ask (1 client) / warm answer in process (medians)",
                f"{ratio:.2f}x",
                f"<= {API_OVER_ANSWER}x",
                ratio <= API_OVER_ANSWER,
            )
        )
    return rows


def worker_rows(options: argparse.Namespace, rates: dict[str, float] | None = None) -> list[Row]:
    """``POST /api/ask`` on ``uvicorn --workers N``, each worker on ``cores / N`` threads.

    ``rates`` receives the req/s of each level.
    """
    workers = options.workers
    threads = options.worker_threads or max(1, (os.cpu_count() or 1) // workers)
    part = f"workers x{workers}"
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        port = free_port()
        server = Server(
            uvicorn_command(port, workers),
            port,
            server_env(Path(scratch) / "feedback.sqlite3", threads),
            workers,
        )
        server.start()
        try:
            rows, medians = load_rows(part, server, options.clients, options.requests, ("POST /api/ask",))
            answered = gradio_affinity_probe(server.url)
            peaks = server.peak_rss()
        finally:
            server.stop()
    if rates is not None:
        rates.update({k: v for k, v in medians.items() if "req/s" in k})
    return [
        Row(
            part,
            f"`uvicorn --workers {workers}` ({threads} OpenMP thread(s) each) start to ready (s)",
            f"{server.ready_seconds:.2f}",
        ),
        Row(
            part,
            "peak RSS per worker after the load (MiB)",
            " / ".join(f"{p:.0f}" for p in peaks),
            f"<= {SERVER_PEAK_MIB}",
            bool(peaks) and max(peaks) <= SERVER_PEAK_MIB,
        ),
        *rows,
        Row(part, "Gradio /ask without session affinity: new sessions answered", f"{answered} of 6"),
    ]
