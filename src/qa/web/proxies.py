"""Forwarded headers: uvicorn's ``ProxyHeadersMiddleware``, and what it leaves to the app.

uvicorn believes ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from the proxies of
``FORWARDED_ALLOW_IPS`` (addresses, CIDR networks or ``*``:
:attr:`qa.web.config.WebSettings.forwarded_allow_ips`). :class:`ForwardedHeaders` runs it and adds
what the app needs on top: a client that is an IP address, written one way (the key of the rate
limit and of the caps per client; 400 otherwise), a scheme that is ``http`` or ``https``, and no
``X-Forwarded-*`` header left for the app but a well-formed ``X-Forwarded-Host`` from a trusted
proxy (whose name :class:`qa.web.security.AllowedHosts` checks).
"""

from __future__ import annotations

import ipaddress
import re

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from qa.web.config import DEFAULT_FORWARDED_ALLOW_IPS
from qa.web.errors import Refusal

FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"forwarded")
FORWARDED_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::\d{1,5})?"
    r"|\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?"
)
BAD_FORWARDED = "En-tête X-Forwarded-For invalide : une adresse IP est attendue."
PEER = "qa.peer"  # the scope key of the proxy's own address and scheme, while uvicorn rewrites them


class TrustedProxies:
    """The addresses whose ``X-Forwarded-*`` headers are believed, as uvicorn reads ``spec``.

    ``spec`` is ``FORWARDED_ALLOW_IPS``: ``*`` (everyone) or a comma-separated list of addresses
    and networks.
    """

    def __init__(self, spec: str = DEFAULT_FORWARDED_ALLOW_IPS) -> None:
        """Parse ``spec`` with uvicorn's own parser (that of its middleware)."""
        self.spec = spec
        self._hosts = ProxyHeadersMiddleware(_unreachable, trusted_hosts=spec).trusted_hosts

    def __contains__(self, host: object) -> bool:
        """Whether ``host`` (an address as text) is trusted."""
        return isinstance(host, str) and host in self._hosts


def parse_address(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, or ``None`` for anything else (a name, garbage, an empty string)."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class ForwardedHeaders:
    """Believes ``X-Forwarded-*`` only from trusted proxies (uvicorn's middleware), and only when they parse.

    From a trusted peer, uvicorn takes the client from ``X-Forwarded-For`` (here: 400 unless it
    is an IP address) and the scheme from ``X-Forwarded-Proto`` (here: ``http``/``https`` only);
    Gradio may use ``X-Forwarded-Host`` if it is a host name. From anyone else these headers are
    removed before the app sees them. Run uvicorn with ``proxy_headers=False``: this replaces its
    own handling (if uvicorn already rewrote the address, a client that is not an IP gets the 400).
    """

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        """Wrap ``app``; ``trusted`` lists the proxies."""
        self.app = app
        self.trusted = trusted
        self.proxied = ProxyHeadersMiddleware(self._believed, trusted_hosts=trusted.spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the client and scheme from a trusted proxy; drop forwarded headers otherwise."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        host = peer[0] if peer else None
        if host is not None and parse_address(host) is None and _names_client(scope):
            await Refusal(400, BAD_FORWARDED).answer(scope, receive, send)  # uvicorn's handling took garbage
        elif host in self.trusted:
            await self.proxied({**scope, PEER: (peer, scope.get("scheme"))}, receive, send)
        else:
            await self.app({**scope, "headers": _without_forwarded(scope, keep_host=False)}, receive, send)

    async def _believed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """After uvicorn's middleware: the client it read must be an IP address; its scheme http(s)."""
        peer, scheme = scope.pop(PEER)
        if _names_client(scope):
            # uvicorn leaves the proxy's own address when X-Forwarded-For names no one
            address = parse_address(scope["client"][0]) if scope["client"] is not peer else None
            if address is None:
                await Refusal(400, BAD_FORWARDED).answer(scope, receive, send)
                return
            scope["client"] = (str(address), scope["client"][1])  # one spelling: one rate-limit key
        if scope["type"] == "http" and scope.get("scheme") not in ("http", "https"):
            scope["scheme"] = scheme  # uvicorn also takes "ws" and "wss" for a plain request
        scope["headers"] = _without_forwarded(scope, keep_host=True)
        await self.app(scope, receive, send)


def _names_client(scope: Scope) -> bool:
    return any(key == b"x-forwarded-for" for key, _ in scope.get("headers", []))


def _without_forwarded(scope: Scope, keep_host: bool) -> list[tuple[bytes, bytes]]:
    """The headers but the forwarded ones; a well-formed ``X-Forwarded-Host`` kept if ``keep_host``."""
    headers = scope.get("headers", [])
    value = next((v.decode("latin-1") for k, v in reversed(headers) if k == b"x-forwarded-host"), "")
    keep = {b"x-forwarded-host"} if keep_host and FORWARDED_HOST.fullmatch(value) else set()
    return [(k, v) for k, v in headers if k not in FORWARDED or k in keep]


async def _unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    """The app of the middleware :class:`TrustedProxies` borrows its parser from: never called."""
    raise RuntimeError("TrustedProxies is no middleware")
