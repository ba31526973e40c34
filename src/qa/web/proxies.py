"""Forwarded headers: which proxies are believed, and what is believed from them.

:class:`TrustedProxies` is the policy (uvicorn's ``FORWARDED_ALLOW_IPS``), :class:`ForwardedHeaders`
the ASGI middleware that applies it in place of uvicorn's own handling.
"""

from __future__ import annotations

import ipaddress
import os
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from qa.web.errors import Refusal

DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"  # uvicorn's default
FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"forwarded")
FORWARDED_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::\d{1,5})?"
    r"|\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?"
)
BAD_FORWARDED = "En-tête X-Forwarded-For invalide : une adresse IP est attendue."


class TrustedProxies:
    """The addresses whose ``X-Forwarded-*`` headers are believed (uvicorn's ``FORWARDED_ALLOW_IPS``).

    ``spec`` is ``*`` (everyone) or a comma-separated list of addresses and networks; entries
    that are neither (a Unix socket path) are ignored.
    """

    def __init__(self, spec: str = DEFAULT_FORWARDED_ALLOW_IPS) -> None:
        """Parse ``spec``."""
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks = []
        for item in items:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue

    def __contains__(self, host: object) -> bool:
        """Whether ``host`` (an address as text) is trusted."""
        address = parse_address(host)
        if address is None:
            return False
        return self.everyone or any(address in network for network in self.networks)

    def client(self, forwarded_for: str) -> str | None:
        """The client address of an ``X-Forwarded-For`` value: the last hop not trusted.

        Returns ``None`` when a hop that must be read is not an IP address.
        """
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        for hop in reversed(hops):
            address = parse_address(_without_port(hop))
            if address is None:
                return None
            if str(address) not in self or hop is hops[0]:
                return str(address)
        return None


def parse_address(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, or ``None`` for anything else (a name, garbage, an empty string)."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _without_port(hop: str) -> str:
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def forwarded_allow_ips(environ: dict[str, str] | None = None) -> str:
    """``FORWARDED_ALLOW_IPS`` from the environment, with uvicorn's default."""
    env = os.environ if environ is None else environ
    return env.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)


class ForwardedHeaders:
    """Believes ``X-Forwarded-*`` only from trusted proxies, and only when they parse.

    From a trusted peer, the client address comes from ``X-Forwarded-For`` (400 when it is not
    an IP address), the scheme from ``X-Forwarded-Proto`` (``http``/``https`` only) and Gradio
    may use ``X-Forwarded-Host`` if it is a host name; from anyone else these headers are removed
    before the app sees them. Run uvicorn with ``proxy_headers=False``: this replaces its own
    handling (if uvicorn already rewrote the address, a client that is not an IP gets the 400).
    """

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        """Wrap ``app``; ``trusted`` lists the proxies."""
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the client and scheme from a trusted proxy; drop forwarded headers otherwise."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else None
        headers = scope.get("headers", [])
        if (
            host is not None
            and parse_address(host) is None
            and any(k == b"x-forwarded-for" for k, _ in headers)
        ):
            # uvicorn's own proxy handling took garbage
            await Refusal(400, BAD_FORWARDED).answer(scope, receive, send)
            return
        values = {k: v.decode("latin-1") for k, v in headers if k in FORWARDED}
        several = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
        if several:
            values[b"x-forwarded-for"] = ", ".join(several)
        scope = dict(scope)
        if host in self.trusted:
            if not self._believe(scope, values):
                await Refusal(400, BAD_FORWARDED).answer(scope, receive, send)
                return
            host_value = values.get(b"x-forwarded-host", "")
            keep = {b"x-forwarded-host"} if FORWARDED_HOST.fullmatch(host_value) else set()
        else:
            keep = set()
        scope["headers"] = [(k, v) for k, v in headers if k not in FORWARDED or k in keep]
        await self.app(scope, receive, send)

    def _believe(self, scope: Scope, values: dict[bytes, str]) -> bool:
        forwarded_for = values.get(b"x-forwarded-for")
        if forwarded_for is not None:
            address = self.trusted.client(forwarded_for)
            if address is None:
                return False
            scope["client"] = (address, 0)
        proto = values.get(b"x-forwarded-proto", "").strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        return True
