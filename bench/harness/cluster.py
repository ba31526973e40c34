"""The recipe of ``deploy/`` run here: app processes as its systemd unit starts them, nginx in front.

:func:`site_config` turns ``deploy/nginx/qa.conf`` into a site for this machine (its listen
address and the processes' ports changed, nothing else); :func:`unit_command` reads the
``ExecStart`` of ``deploy/qa-web@.service`` for one port; :class:`Nginx` runs a site in a folder
of its own. ``qa bench --only pair`` measures the pair behind nginx with them (:func:`pair_rows`),
and ``tests/test_deploy.py`` runs the same recipe against PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
SITE = ROOT / "deploy" / "nginx" / "qa.conf"
UNIT = ROOT / "deploy" / "qa-web@.service"
UNIT_ROOT = "/srv/qa"  # where the unit expects the checkout
RECIPE_PORTS = ("127.0.0.1:8001", "127.0.0.1:8002")  # the processes the site file names
NGINX_MAIN = """\
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {folder}/access.log upstream;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
"""


def site_config(ports: list[int], listen: int, site: Path = SITE) -> str:
    """``deploy/nginx/qa.conf`` for processes on ``ports`` of 127.0.0.1, listening on ``listen``.

    Raises:
        ValueError: when the file no longer names the recipe's two processes and ``listen 80``.
    """
    text = site.read_text(encoding="utf-8")
    if len(ports) != len(RECIPE_PORTS) or "listen 80;" not in text:
        raise ValueError(f"{site}: expected `listen 80;` and {len(RECIPE_PORTS)} processes")
    for recipe, port in zip(RECIPE_PORTS, ports, strict=True):
        if recipe not in text:
            raise ValueError(f"{site}: no process {recipe}")
        text = text.replace(recipe, f"127.0.0.1:{port}")
    return text.replace("listen 80;", f"listen 127.0.0.1:{listen};")


@dataclass(frozen=True)
class UnitCommand:
    """What the systemd unit runs for one port, made local: argv, environment, folder."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


def unit_command(port: int, unit: Path = UNIT, root: Path = ROOT) -> UnitCommand:
    """The ``ExecStart`` of ``deploy/qa-web@.service`` for ``port``, in this checkout and venv.

    ``/srv/qa`` becomes the checkout; its ``.venv/bin/python`` the interpreter running this.
    """
    values: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(("#", ";")):
            values.setdefault(key.strip(), []).append(value.strip())

    def local(text: str) -> str:
        text = text.replace(f"{UNIT_ROOT}/.venv/bin/python", sys.executable)
        return text.replace(UNIT_ROOT, str(root)).replace("%i", str(port))

    argv = [local(word) for word in shlex.split(values["ExecStart"][0])]
    env = {}
    for assignments in values.get("Environment", []):
        env.update(dict(word.split("=", 1) for word in shlex.split(assignments)))
    return UnitCommand(argv=argv, env=env, cwd=Path(local(values["WorkingDirectory"][0])))


@dataclass
class Nginx:
    """An nginx master of its own in ``folder``, serving one site (Debian's ``nginx``)."""

    folder: Path
    program: str = "nginx"
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, site: str, port: int, timeout: float = 30) -> None:
        """Check and serve ``site`` (a file of ``upstream``/``server`` blocks); wait for ``port``.

        Raises:
            RuntimeError: when ``nginx -t`` refuses it, or nothing listens within ``timeout``.
        """
        (self.folder / "site.conf").write_text(site, encoding="utf-8")
        main = NGINX_MAIN.format(folder=self.folder, site=self.folder / "site.conf")
        (self.folder / "nginx.conf").write_text(main, encoding="utf-8")
        command = [self.program, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if check.returncode:
            raise RuntimeError(f"nginx -t : {check.stderr.strip()}")
        self.process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        import socket

        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx ne répond pas sur le port {port} : {self.log()[-500:]}")

    def stop(self) -> None:
        """Stop nginx (SIGTERM: at once) and wait for it."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None

    def log(self) -> str:
        """The error log of nginx so far."""
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def upstreams(self) -> list[str]:
        """The process (``127.0.0.1:port``) that answered each request so far, in order."""
        path = self.folder / "access.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return [line.rsplit(" ", 1)[-1] for line in lines]


def new_nginx() -> Nginx:
    """An :class:`Nginx` in a new temporary folder that its workers may write.

    Raises:
        RuntimeError: when nginx is not installed (``make servers``).
    """
    program = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if program is None:
        raise RuntimeError("nginx n'est pas installé (make servers)")
    folder = Path(tempfile.mkdtemp(prefix="qa-nginx-"))
    folder.chmod(0o777)  # nginx's workers run as another user when started as root
    return Nginx(folder=folder, program=program)


def start_processes(started: list, count: int, env: dict[str, str]) -> None:
    """Start ``count`` processes of the unit, each on a free port with ``env``, into ``started``.

    Each one is ready (``/healthz`` answers) before the next starts; ``started`` holds those that
    did, for the caller to stop, even when one fails (``RuntimeError``).
    """
    from bench.harness.processes import free_port
    from bench.harness.server import Server

    for _ in range(count):
        port = free_port()
        command = unit_command(port)
        server = Server(command.argv, port, {**command.env, **env}, cwd=command.cwd)
        started.append(server)
        server.start()


@dataclass(frozen=True)
class Front:
    """nginx as the load sees it: its URL, and the processes behind it (whose CPU is counted)."""

    url: str
    servers: list

    def pids(self) -> list[int]:
        """The app processes' ids."""
        return [pid for server in self.servers for pid in server.pids()]


def pair_rows(options: argparse.Namespace, rates: dict[str, float] | None = None) -> list:
    """``POST /api/ask`` and Gradio ``/ask`` on two processes of the unit behind the nginx recipe.

    Each process on ``cores / 2`` threads, the log in one SQLite file (the recipe's PostgreSQL
    and Redis are tested in tests/test_deploy.py; here the servers would share the two cores).
    """
    from bench.harness.figures import Row
    from bench.harness.processes import free_port
    from bench.harness.server import Server, gradio_affinity_probe, load_rows, server_env

    threads = max(1, (os.cpu_count() or 1) // 2)
    part = "pair (nginx)"
    nginx = new_nginx()
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        env = server_env(Path(scratch) / "feedback.sqlite3", threads)
        try:
            start_processes(servers, 2, env)
            listen = free_port()
            nginx.start(site_config([s.port for s in servers], listen), listen)
            front = Front(f"http://127.0.0.1:{listen}", servers)
            rows, medians = load_rows(
                part, front, options.clients, options.requests, ("POST /api/ask", "Gradio /ask")
            )
            answered = gradio_affinity_probe(front.url)
            peaks = [max(s.peak_rss()) for s in servers]
            spread = nginx.upstreams()
        finally:
            nginx.stop()
            shutil.rmtree(nginx.folder, ignore_errors=True)
            for server in servers:
                server.stop()
    if rates is not None:
        rates.update({k: v for k, v in medians.items() if k.startswith("POST") and "req/s" in k})
    shares = " / ".join(f"{spread.count(f'127.0.0.1:{s.port}')}" for s in servers)
    return [
        Row(
            part,
            f"two processes of deploy/qa-web@.service ({threads} thread(s) each), start to ready (s)",
            " / ".join(f"{s.ready_seconds:.2f}" for s in servers),
        ),
        Row(part, "peak RSS per process after the load (MiB)", " / ".join(f"{p:.0f}" for p in peaks)),
        *rows,
        Row(part, "requests answered by each process (nginx's log)", shares),
        Row(part, "Gradio /ask through nginx (session affinity): new sessions answered", f"{answered} of 6"),
    ]
