"""``qa bench``: latency, start-up, memory, HTTP and scaling figures, printed as one table.

Everything runs on this machine in one go, so the ratios compare like with like:

- ``answer``: a warm answer in process against encoding the same question alone, where the rest
  of the time goes (BM25, FAISS, MaxP, decision, highlight), and the naive design card (e5 over
  whole sections, nothing else) side by side;
- ``cold``: ``qa ask`` from process start to its printed answer, against a bare
  ``import sentence_transformers``, and its peak RSS;
- ``scaling``: synthetic corpora of 1k-100k unit vectors, exact search against the approximate
  index (:func:`qa.index.approximate_index`) with its recall@10;
- ``server``: the app (``app.py``) started in a subprocess on a free port: start to ready, peak
  RSS, ``POST /api/ask`` and Gradio ``/ask`` at 1, 4 and 16 concurrent clients;
- ``workers`` (with ``--workers N``): the same API load on ``uvicorn --workers N``.

All HTTP traffic goes to 127.0.0.1, in bounded loops.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

SAMPLE_QUESTIONS = [
    "Qui est l'auteur ?", "leucemie fer", "cancer du sien metastatik", "indole 3 carbinol",
    "Sur quelles cellules agit la tri-thérapie ?", "What is ferroptosis?",
    "Comment cuisiner des lentilles ?", "Les légumes verts renforcent-ils l'immunothérapie ?",
]
COLD_QUESTION = "Qui est l'auteur ?"
PARTS = ("answer", "cold", "scaling", "server", "workers")
DIMENSION = 384  # multilingual-e5-small

# Targets of the performance issue (medians on the 2-core machine).
ANSWER_OVER_ENCODE = 1.5
API_OVER_ANSWER = 3.0
COLD_OVER_IMPORT = 1.5
CLI_PEAK_MIB = 1536  # 1.5 GiB
RECALL_AT_10 = 0.95
SEARCH_OVER_ENCODE = 0.1  # "well under the encoding time"


# --- statistics ---------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples``, linear between closest ranks (as numpy).

    Raises:
        ValueError: for no samples or ``q`` outside 0-100.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    """Median and 95th percentile of durations, in milliseconds."""

    p50: float
    p95: float
    count: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary:
        """Summarise durations given in seconds."""
        return cls(percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000, len(seconds))

    def __str__(self) -> str:
        """``p50 / p95`` with a precision that suits the size."""
        return f"{_ms(self.p50)} / {_ms(self.p95)}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock durations, in seconds, of ``repeats`` calls of ``action``."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return durations


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table; ``holds`` is ``None`` when the line has no target."""

    part: str
    measure: str
    value: str
    target: str = ""
    holds: bool | None = None


def verdict(holds: bool | None) -> str:
    """``yes``, ``NO`` or nothing."""
    return "" if holds is None else ("yes" if holds else "NO")


def render_text(rows: Sequence[Row], header: Sequence[str]) -> str:
    """The table as aligned plain text, under its header lines."""
    cells = [("part", "measure", "value", "target", "holds")]
    cells += [(r.part, r.measure, r.value, r.target, verdict(r.holds)) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(5)]
    lines = list(header)
    for n, line in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: Sequence[Row], header: Sequence[str]) -> str:
    """The table in Markdown, under its header lines (for docs/performance.md)."""
    lines = [f"{h}  " for h in header] + ["", "| part | measure | value | target | holds |",
                                          "|---|---|---|---|---|"]
    lines += [f"| {r.part} | {r.measure} | {r.value} | {r.target} | {verdict(r.holds)} |"
              for r in rows]
    return "\n".join(lines)


# --- the machine and its processes --------------------------------------------------------------


def machine() -> dict[str, str]:
    """Date, processor, cores, memory, versions and load average: the table's header."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "?")
    memory = next((int(line.split()[1]) for line in _read_lines("/proc/meminfo")
                   if line.startswith("MemTotal:")), 0)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {memory / 1024**2:.1f} GiB, {platform.system()}",
        "python": platform.python_version(),
        "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def run_measured(argv: Sequence[str], env: dict[str, str] | None = None,
                 timeout: float = 600) -> tuple[float, float]:
    """Run a command to its end: wall seconds and its own peak RSS in MiB.

    The peak is the child's ``VmHWM``, read every 10 ms while it runs. ``wait4``'s ``ru_maxrss``
    would not do: a child spawned by a large process starts with the parent's peak as its own.

    Raises:
        RuntimeError: when it fails or runs past ``timeout``; the message ends with its stderr.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, peak_rss_mib(process.pid))
            if time.perf_counter() - start > timeout:
                process.kill()
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-600:]
            raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}: {tail}")
    return elapsed, peak


def peak_rss_mib(pid: int) -> float:
    """Peak RSS (``VmHWM``) of a running process, in MiB; 0 when it cannot be read."""
    for line in _read_lines(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Direct children of a running process (Linux), less multiprocessing's resource tracker."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in found if b"resource_tracker" not in _command_line(c)]


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (FAISS prints k-means warnings from C++)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# --- in process: the answer and its parts -------------------------------------------------------


class StageClock:
    """Times calls of chosen methods of live objects, by stage name, then puts them back."""

    def __init__(self) -> None:
        """Start with no stage timed."""
        self.seconds: dict[str, float] = {}
        self._patched: list[tuple[object, str]] = []

    def wrap(self, owner: object, method: str, stage: str) -> None:
        """Time every call of ``owner.method`` under ``stage`` (an instance attribute shadows it)."""
        original = getattr(owner, method)
        self.seconds.setdefault(stage, 0.0)

        def timed_call(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        setattr(owner, method, timed_call)
        self._patched.append((owner, method))

    def restore(self) -> None:
        """Remove every wrapper."""
        for owner, method in reversed(self._patched):
            delattr(owner, method)
        self._patched.clear()


def answer_breakdown(engine: object, questions: Sequence[str]) -> dict[str, float]:
    """Mean milliseconds per answer spent in each stage of ``Engine.ask``."""
    clock = StageClock()
    for owner, method, stage in (
        (engine.encoder, "encode_queries", "encode"), (engine.lexical, "analyse", "analyse"),
        (engine.lexical, "scores", "bm25"), (engine.lexical, "coverage", "coverage"),
        (engine.index, "search", "search"), (engine, "_rank", "rank"),
        (engine, "_decide", "decide"), (engine, "_cite", "cite"),
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
    stages["validation, smalltalk, answer object"] = total * 1000 / len(questions) - sum(
        stages.values())
    stages["all of the above: the mean answer"] = total * 1000 / len(questions)
    return stages


def naive_card(engine: object) -> Callable[[str], list[str]]:
    """The design card's naive answer: e5 over whole sections, the three nearest, nothing else."""
    units = engine.index.units
    whole = [i for i, u in enumerate(units) if u.kind == "passage"]
    sections = np.ascontiguousarray(engine.vectors[whole])
    texts = [engine.articles[units[i].article].source[units[i].start:units[i].end] for i in whole]

    def answer(question: str) -> list[str]:
        scores = sections @ engine.encoder.encode_queries([question])[0]
        return [texts[i] for i in np.argsort(-scores)[:3]]

    return answer


def answer_rows(engine: object, repeats: int) -> tuple[list[Row], dict[str, float]]:
    """Warm answer, encoding alone and the naive card, interleaved question by question."""
    naive = naive_card(engine)
    for question in SAMPLE_QUESTIONS:  # warm-up: first calls allocate and fill caches
        engine.ask(question)
        naive(question)
    samples: dict[str, list[float]] = {"answer": [], "encode": [], "naive": [], "json": []}
    for _ in range(repeats):
        for q in SAMPLE_QUESTIONS:
            samples["encode"] += timed(lambda q=q: engine.encoder.encode_queries([q]), 1)
            samples["naive"] += timed(lambda q=q: naive(q), 1)
            samples["answer"] += timed(lambda q=q: engine.ask(q), 1)
            answer = engine.ask(q)
            samples["json"] += timed(lambda a=answer: json.dumps(a.to_dict(), ensure_ascii=False), 1)
    answer, encode = Summary.of(samples["answer"]), Summary.of(samples["encode"])
    naive_s, json_s = Summary.of(samples["naive"]), Summary.of(samples["json"])
    ratio = answer.p50 / encode.p50
    rows = [
        Row("answer", "encode the question alone, p50 / p95 (ms)", str(encode)),
        Row("answer", "naive card: e5 over sections only, p50 / p95 (ms)", str(naive_s)),
        Row("answer", "warm answer (full engine), p50 / p95 (ms)", str(answer)),
        Row("answer", "warm answer / encode alone (medians)", f"{ratio:.2f}x",
            f"<= {ANSWER_OVER_ENCODE}x", ratio <= ANSWER_OVER_ENCODE),
        Row("answer", "naive card / encode alone (medians)", f"{naive_s.p50 / encode.p50:.2f}x"),
    ]
    for stage, ms in answer_breakdown(engine, SAMPLE_QUESTIONS * repeats).items():
        name = stage if stage.startswith("all of") else f"of which {stage}"
        rows.append(Row("answer", f"  {name}, mean (ms)", _ms(ms)))
    rows.append(Row("answer", "  then to_dict + JSON (CLI, API), p50 (ms)", _ms(json_s.p50)))
    return rows, {"answer_p50": answer.p50, "encode_p50": encode.p50}


def build_rows(engine: object) -> list[Row]:
    """Index build time: every unit (this design) against whole sections only (naive card)."""
    from qa.index import build, exact_index

    start = time.perf_counter()
    index = build(engine.articles, engine.encoder)
    full = time.perf_counter() - start
    units = index.units
    texts = [engine.articles[u.article].source[u.start:u.end] for u in units if u.kind == "passage"]
    start = time.perf_counter()
    exact_index(engine.encoder.encode_passages(texts))
    naive = time.perf_counter() - start
    return [
        Row("answer", f"index build: {len(units)} units (sections, sentences, pairs) (s)",
            f"{full:.2f}"),
        Row("answer", f"index build: naive card, {len(texts)} whole sections (s)", f"{naive:.2f}"),
    ]


# --- cold start ---------------------------------------------------------------------------------


def qa_command() -> list[str]:
    """How to run the ``qa`` console script of this interpreter."""
    script = Path(sys.executable).with_name("qa")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from qa.cli import main; main()"]


def cold_rows(runs: int) -> list[Row]:
    """``qa ask`` from process start to answer against a bare import, interleaved, medians."""
    bare, cold, peaks = [], [], []
    for _ in range(runs):
        bare.append(run_measured([sys.executable, "-c", "import sentence_transformers"])[0])
        seconds, peak = run_measured([*qa_command(), "ask", "--json", COLD_QUESTION])
        cold.append(seconds)
        peaks.append(peak)
    ratio = percentile(cold, 50) / percentile(bare, 50)
    spread = f" (runs {min(cold):.2f}-{max(cold):.2f})" if runs > 1 else ""
    return [
        Row("cold", f"`qa ask` start to answer, median of {runs} (s)",
            f"{percentile(cold, 50):.2f}{spread}"),
        Row("cold", f"bare `import sentence_transformers`, median of {runs} (s)",
            f"{percentile(bare, 50):.2f}"),
        Row("cold", "cold `qa ask` / bare import", f"{ratio:.2f}x", f"<= {COLD_OVER_IMPORT}x",
            ratio <= COLD_OVER_IMPORT),
        Row("cold", "peak RSS of `qa ask` (MiB)", f"{max(peaks):.0f}", f"<= {CLI_PEAK_MIB}",
            max(peaks) <= CLI_PEAK_MIB),
    ]


# --- scaling ------------------------------------------------------------------------------------


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
        (100, DIMENSION)).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    random = rng.standard_normal((100, DIMENSION)).astype(np.float32)
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return data, near, random


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each exact top-k found in the approximate top-k."""
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))


def search_latency(index: object, queries: np.ndarray, k: int) -> Summary:
    """Single-query searches, as the engine makes them."""
    from qa.index import search_one

    return Summary.of([timed(lambda q=q: search_one(index, q, k), 1)[0] for q in queries])


def scaling_rows(sizes: Sequence[int], encode_p50: float | None) -> list[Row]:
    """Exact against approximate search on synthetic corpora: latency, memory, recall@10."""
    import faiss

    from qa.engine import Tuning
    from qa.index import APPROXIMATE_THRESHOLD, IVF_PROBES, approximate_index, exact_index

    k = Tuning().candidate_units
    rng = np.random.default_rng(0)
    rows = [Row("scaling", "switch to the approximate index (IVF, nprobe "
                f"{IVF_PROBES}) from (units)", f"{APPROXIMATE_THRESHOLD:,}")]
    for size in sizes:
        data, near, random = synthetic_corpus(size, rng)
        exact = exact_index(data)
        start = time.perf_counter()
        with quiet_stderr():
            approximate = approximate_index(data)
        built = time.perf_counter() - start
        exact_s = search_latency(exact, near, k)
        approx_s = search_latency(approximate, near, k)
        recalls = [recall_at(approximate.search(q, 10)[1], exact.search(q, 10)[1])
                   for q in (near, random)]
        used = approx_s if size >= APPROXIMATE_THRESHOLD else exact_s
        mib = [faiss.serialize_index(i).nbytes / 1024**2 for i in (exact, approximate)]
        name = f"{size:,} units"
        rows += [
            Row("scaling", f"{name}: exact search k={k}, p50 / p95 (ms)", str(exact_s)),
            Row("scaling", f"{name}: IVF search k={k}, p50 / p95 (ms); IVF build (s)",
                f"{approx_s}; {built:.1f}"),
            Row("scaling", f"{name}: IVF recall@10, near questions / random directions",
                f"{recalls[0]:.3f} / {recalls[1]:.3f}",
                *((f">= {RECALL_AT_10}", min(recalls) >= RECALL_AT_10)
                  if size >= APPROXIMATE_THRESHOLD else ("", None))),
            Row("scaling", f"{name}: index memory, exact / IVF (MiB)", f"{mib[0]:.1f} / {mib[1]:.1f}"),
        ]
        if encode_p50 and size == max(sizes):
            ratio = used.p50 / encode_p50
            rows.append(Row("scaling", f"{name}: search used by qa / encode alone (medians)",
                            f"{ratio:.3f}x", f"<= {SEARCH_OVER_ENCODE}x", ratio <= SEARCH_OVER_ENCODE))
    return rows


# --- the server ---------------------------------------------------------------------------------


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
        self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.env})
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
    env = {"GRADIO_ANALYTICS_ENABLED": "False", "QA_FEEDBACK_DB": str(feedback_db),
           "QA_RATE_LIMIT": "1000000"}
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
        return Row(part, f"{endpoint}, {clients} client{'s' * (clients > 1)}: p50 / p95 (ms); "
                   "req/s; server CPU per request (ms); failed",
                   f"{summary}; {rate:.1f}; {cpu:.0f}; {self.failures}")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time of running processes, in seconds (Linux)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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


def gradio_client(url: str) -> Callable[[], Callable[[str], bool]]:
    """A factory of Gradio ``/ask`` callers (``gradio_client.Client``), one session each."""
    from gradio_client import Client

    def connect() -> Callable[[str], bool]:
        client = Client(url + "/", verbose=False, analytics_enabled=False, download_files=False,
                        httpx_kwargs={"timeout": 60})

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
    from gradio_client import Client

    answered = 0
    for _ in range(tries):
        client = Client(url + "/", verbose=False, analytics_enabled=False, download_files=False,
                        httpx_kwargs={"timeout": 10})
        with contextlib.suppress(Exception):
            result = client.submit(COLD_QUESTION, api_name="/ask").result(timeout=10)
            answered += isinstance(result, dict) and "status" in result
        with contextlib.suppress(Exception):
            client.close()
    return answered


def load_rows(part: str, server: Server, levels: Sequence[int], requests: int,
              endpoints: Sequence[str]) -> tuple[list[Row], dict[str, float]]:
    """Both endpoints at each concurrency level; about ``requests`` requests per level."""
    factories = {"POST /api/ask": api_client(server.url), "Gradio /ask": gradio_client(server.url)}
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
    return rows, medians


def app_command(port: int) -> list[str]:
    """``python app.py`` as ``make run`` starts it, on ``port``."""
    code = "import sys; from qa.web.server import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "--host", "127.0.0.1", "--port", str(port)]


def uvicorn_command(port: int, workers: int) -> list[str]:
    """The app under ``uvicorn --workers`` through the factory of :mod:`qa.web.asgi`."""
    return [sys.executable, "-m", "uvicorn", "--factory", "qa.web.asgi:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "info", "--no-access-log"]


def server_rows(options: argparse.Namespace, answer_p50: float | None) -> list[Row]:
    """The app in a subprocess: start to ready, peak RSS, both endpoints under load."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        port = free_port()
        server = Server(app_command(port), port, server_env(Path(scratch) / "feedback.sqlite3"))
        server.start()
        try:
            rows, medians = load_rows("server", server, options.clients, options.requests,
                                      ("POST /api/ask", "Gradio /ask"))
            peak = max(server.peak_rss())
        finally:
            server.stop()
    rows.insert(0, Row("server", "`python app.py` start to ready (/healthz) (s)",
                       f"{server.ready_seconds:.2f}"))
    rows.insert(1, Row("server", "peak RSS of the server after the load (MiB)", f"{peak:.0f}"))
    api = medians.get("POST /api/ask 1")
    if api and answer_p50:
        ratio = api / answer_p50
        rows.append(Row("server", "POST /api/ask (1 client) / warm answer in process (medians)",
                        f"{ratio:.2f}x", f"<= {API_OVER_ANSWER}x", ratio <= API_OVER_ANSWER))
    return rows


def worker_rows(options: argparse.Namespace) -> list[Row]:
    """``POST /api/ask`` on ``uvicorn --workers N``, each worker on ``cores / N`` threads."""
    workers = options.workers
    threads = options.worker_threads or max(1, (os.cpu_count() or 1) // workers)
    part = f"workers x{workers}"
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        port = free_port()
        server = Server(uvicorn_command(port, workers), port,
                        server_env(Path(scratch) / "feedback.sqlite3", threads), workers)
        server.start()
        try:
            rows, _ = load_rows(part, server, options.clients, options.requests,
                                ("POST /api/ask",))
            answered = gradio_affinity_probe(server.url)
            peaks = server.peak_rss()
        finally:
            server.stop()
    return [
        Row(part, f"`uvicorn --workers {workers}` ({threads} torch thread(s) each) start to "
            "ready (s)", f"{server.ready_seconds:.2f}"),
        Row(part, "peak RSS per worker after the load (MiB)", " / ".join(f"{p:.0f}" for p in peaks)),
        *rows,
        Row(part, "Gradio /ask without session affinity: new sessions answered",
            f"{answered} of 6"),
    ]


# --- the command --------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    """Options; ``--quick`` shrinks every part so that the whole run takes about a minute."""
    parser = argparse.ArgumentParser(
        prog="qa bench", description="Latency, start-up, memory, HTTP and scaling figures, one table.")
    parser.add_argument("--quick", action="store_true",
                        help="small run (~1 min): fewer repeats, 1k/10k units, 1 and 4 clients")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="parts to run (default: all but "
                        "workers; workers also when --workers is given)")
    parser.add_argument("--repeats", type=int, help="rounds over the 8 sample questions (5)")
    parser.add_argument("--cold-runs", type=int, help="cold starts of each command (3)")
    parser.add_argument("--sizes", type=int, nargs="+", help="synthetic corpus sizes (1k 10k 100k)")
    parser.add_argument("--clients", type=int, nargs="+", help="concurrency levels (1 4 16)")
    parser.add_argument("--requests", type=int, help="requests per level and endpoint (48)")
    parser.add_argument("--workers", type=int, help="also measure `uvicorn --workers N`")
    parser.add_argument("--worker-threads", type=int, help="torch threads per worker (cores / N)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    options = parser.parse_args(argv)
    quick = options.quick
    defaults = {"repeats": (2, 5), "cold_runs": (1, 3), "sizes": ([1_000, 10_000],
                [1_000, 10_000, 100_000]), "clients": ([1, 4], [1, 4, 16]), "requests": (8, 48)}
    for name, (small, full) in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, small if quick else full)
    if options.only is None:
        options.only = [p for p in PARTS if p != "workers" or options.workers]
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
    if "server" in options.only:
        rows += server_rows(options, figures.get("answer_p50"))
    if "workers" in options.only:
        rows += worker_rows(options)
    return rows


def main(argv: list[str]) -> int:
    """Run the benchmark and print the table; 2 and one line on stderr if a part fails."""
    options = parse(argv)
    before = machine()
    try:
        rows = collect(options)
    except (RuntimeError, OSError, ValueError) as error:
        print(f"qa bench : erreur : {error}", file=sys.stderr)  # noqa: T201
        return 2
    after = os.getloadavg()
    header = [f"qa bench{' --quick' if options.quick else ''}, {before['date']}",
              f"{before['machine']}, Python {before['python']}",
              f"load average (1, 5, 15 min) at start {before['load_average']}, at end "
              + " ".join(f"{v:.2f}" for v in after)]
    if options.format == "json":
        report = {**before, "load_average_end": " ".join(f"{v:.2f}" for v in after),
                  "rows": [asdict(r) for r in rows]}
        print(json.dumps(report, ensure_ascii=False, indent=1))  # noqa: T201
    elif options.format == "markdown":
        print(render_markdown(rows, header))  # noqa: T201
    else:
        print(render_text(rows, header))  # noqa: T201
    return 0
