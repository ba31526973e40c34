"""Processes and the machine, from Linux's ``/proc``: wall time, peak RSS, CPU, children, ports."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path


def machine() -> dict[str, str]:
    """Date, processor, cores, memory, versions and load average: the table's header."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read_lines("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = next(
        (int(line.split()[1]) for line in _read_lines("/proc/meminfo") if line.startswith("MemTotal:")), 0
    )
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


def run_measured(
    argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600
) -> tuple[float, float]:
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


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time of running processes, in seconds (Linux)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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
