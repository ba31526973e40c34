"""Real PostgreSQL, Redis and nginx servers for the tests, in temporary folders on loopback ports.

Debian's packages (``postgresql``, ``redis-server``, ``nginx-light``; ``make servers`` installs
them). Each fixture starts its server once per session, in a folder of its own, on a free port of
127.0.0.1, and stops it at the end; a test may stop and start it again (a database that goes down
and comes back). A test that uses one of them is marked ``servers`` (conftest.py): the everyday
``pytest`` leaves it out, ``make test`` runs it.

PostgreSQL refuses to run as root: when the tests run as root, its folder belongs to the
``postgres`` user of Debian's package, and its commands run as that user (``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.harness.cluster import Nginx, new_nginx

START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 free now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = START_TIMEOUT, up: bool = True) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (or, ``up=False``, refuses them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"127.0.0.1:{port} is still {'closed' if up else 'open'} after {timeout} s")


def _program(name: str, *patterns: str) -> str:
    """The path of a server program: on PATH, else in Debian's folders; skip the test if missing."""
    found = shutil.which(name) or next((p for pattern in patterns for p in sorted(glob.glob(pattern))), None)
    if found is None:
        pytest.skip(f"{name} is not installed (make servers installs Debian's package)")
    return found


@contextlib.contextmanager
def serving(server: Postgres | Redis, folder: Path) -> Iterator[None]:
    """Start ``server``; at the end stop it (if it runs) and remove its folder."""
    server.start()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own: ``url`` is a fresh database's SQLAlchemy URL."""

    folder: Path
    port: int
    bin_dir: Path
    user: str | None  # the system user its commands run as (None: this one)
    databases: int = 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=START_TIMEOUT)

    def start(self) -> None:
        """Start the server (again) and wait until it takes connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.folder / "server.log"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "start",
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server (fast: open connections are closed) and wait until its port is closed."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        wait_for_port(self.port, up=False)

    @property
    def running(self) -> bool:
        """Whether the port takes connections."""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
            return True
        return False

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3), as the ``postgres`` superuser."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its URL (each test its own)."""
        import psycopg

        self.databases += 1
        name = f"qa_test_{self.databases}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server for the session (``Debian's postgresql``), on a free loopback port."""
    initdb = _program("initdb", "/usr/lib/postgresql/*/bin/initdb")
    bin_dir = Path(initdb).resolve().parent
    user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="qa-postgres-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = Postgres(folder=folder, port=free_port(), bin_dir=bin_dir, user=user)
    server._run(
        initdb, "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
    )
    with serving(server, folder):
        yield server


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class Redis:
    """A redis-server of its own, in memory only (no dump, no append-only file)."""

    folder: Path
    port: int
    program: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Its ``redis://`` URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (again) and wait until it takes connections."""
        command = [
            self.program,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server and wait until its port is closed."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT)
            self.process = None
        wait_for_port(self.port, up=False)

    def flush(self) -> None:
        """Forget every key (each test starts with no count)."""
        import redis

        redis.Redis.from_url(self.url).flushall()


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    """A Redis server for the session (Debian's ``redis-server``), on a free loopback port."""
    program = _program("redis-server", "/usr/bin/redis-server")
    server = Redis(folder=Path(tempfile.mkdtemp(prefix="qa-redis-")), port=free_port(), program=program)
    with serving(server, server.folder):
        yield server


# --- nginx ---------------------------------------------------------------------------------------


@pytest.fixture
def nginx() -> Iterator[Nginx]:
    """An nginx to start with a site's text (Debian's ``nginx``), stopped after the test.

    The same class ``qa bench --only pair`` runs the deployment recipe with.
    """
    _program("nginx", "/usr/sbin/nginx")
    server = new_nginx()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
