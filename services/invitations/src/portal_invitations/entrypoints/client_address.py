"""The address acceptance attempts are counted under: the socket peer, or, only when the peer is
a configured gateway (``INVITATIONS_TRUSTED_GATEWAYS``), the client the gateway names last in
X-Forwarded-For (each proxy appends the address it saw, so earlier entries are the client's).

uvicorn's proxy-headers option (on by default, trusting 127.0.0.1 or ``--forwarded-allow-ips``)
replaces the peer with an address taken from X-Forwarded-For before the app sees it: whoever
talks to uvicorn from a trusted address could then choose an address per request. The socket
peer is gone by then, but it shows: the address the app is given is one the header names. Such
a request counts under that address only if a gateway is configured and it is the one this
service would have picked; otherwise under one shared key, so rotating the header gets nowhere.
The Dockerfile and the Kubernetes Deployment run uvicorn with ``--no-proxy-headers``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNVERIFIED = "forwarded-from-an-unverified-peer"


def _host(entry: str) -> str:
    """``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:5678`` or ``::1`` -> the address."""
    entry = entry.strip()
    if entry.startswith("["):
        return entry[1 : entry.find("]")] if "]" in entry else entry
    return entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry


def _is_gateway(host: str, gateways: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in gateways)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], gateways: Sequence[Network]
) -> str:
    chain = [_host(entry) for value in forwarded_for for entry in value.split(",")]
    chain = [host for host in chain if host]
    if peer is None:
        return UNVERIFIED
    if not chain:
        return peer
    named = next((h for h in reversed(chain) if not _is_gateway(h, gateways)), chain[0])
    if peer not in chain:  # the socket peer, as the server saw it
        return named if _is_gateway(peer, gateways) else peer
    return peer if gateways and peer == named else UNVERIFIED
