"""Slow clients cut off (qa.web.timeouts): accepted connections get ``TCP_NODELAY``, even on a
listener inherited as uvicorn's workers inherit it; and on the app served in a subprocess
(``running``), 300 slow sockets are closed while ``/healthz`` keeps answering.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time

import uvicorn
from support.hardening import Running
from support.web import HealthProbe
from uvicorn.server import ServerState

from qa.web.config import WebSettings
from qa.web.timeouts import protocol_for


def test_accepted_connections_get_tcp_nodelay_even_on_an_inherited_listener():
    """uvicorn --workers passes a listener with proto 0, on which asyncio leaves Nagle on."""
    settings = WebSettings()
    protocol = protocol_for(settings)
    config = uvicorn.Config(lambda scope, receive, send: None, http=protocol)
    config.load()

    async def accepted_nodelay() -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn's
        listener.bind(("127.0.0.1", 0))
        made: asyncio.Future = asyncio.get_running_loop().create_future()

        class Probe(protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:
                super().connection_made(transport)
                sock = transport.get_extra_info("socket")
                made.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Probe(config, ServerState(), {}), sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(made, 5)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def slow_sockets(port: int, count: int) -> list[socket.socket]:
    """``count`` connections: half send nothing, half start a request and then trickle."""
    sockets = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def seconds_until_closed(sockets: list[socket.socket], limit: float) -> list[float]:
    """When the server closed each socket (seconds from now); one header line every 2 s meanwhile."""
    start = last_trickle = time.monotonic()
    open_ = {sock.fileno(): sock for sock in sockets}
    closed_at: list[float] = []
    while open_ and time.monotonic() - start < limit:
        readable, _, _ = select.select(list(open_.values()), [], [], 0.2)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_at.append(time.monotonic() - start)
                del open_[sock.fileno()]
        if time.monotonic() - last_trickle >= 2:
            last_trickle = time.monotonic()
            for fileno, sock in list(open_.items())[1::2]:
                try:
                    sock.send(b"X-Lent: 1\r\n")
                except OSError:
                    closed_at.append(time.monotonic() - start)
                    del open_[fileno]
    return closed_at


def test_slow_sockets_are_closed_while_healthz_answers(running: Running):
    sockets = slow_sockets(int(running.url.rsplit(":", 1)[1].strip("/")), 300)
    probe = HealthProbe(running.url, interval=0.25)
    probe.start()
    try:
        closed_at = seconds_until_closed(sockets, limit=20)
    finally:
        probe.done.set()
        probe.join()
        for sock in sockets:
            sock.close()
    print(
        f"300 slow sockets: {len(closed_at)} closed, the last after {max(closed_at):.1f} s; "  # noqa: T201
        f"/healthz at most {max(probe.latencies):.3f} s over {len(probe.latencies)} calls"
    )
    assert len(closed_at) == 300 and max(closed_at) < 15
    assert probe.latencies and max(probe.latencies) < 1
