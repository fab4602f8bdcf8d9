"""Which address acceptance attempts count under, whatever the server did with X-Forwarded-For."""

from __future__ import annotations

import ipaddress

import pytest

from portal_invitations.entrypoints.client_address import UNVERIFIED, client_address

GATEWAY = [ipaddress.ip_network("10.0.0.0/24")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "gateways", "expected"),
    [
        ("203.0.113.7", [], [], "203.0.113.7"),  # no header: the peer
        ("203.0.113.7", ["198.51.100.1"], [], "203.0.113.7"),  # a header from anyone: ignored
        ("10.0.0.5", ["198.51.100.1"], GATEWAY, "198.51.100.1"),  # from the gateway: its client
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], GATEWAY, "198.51.100.1"),  # the client's own: no
        ("10.0.0.5", ["198.51.100.1, 10.0.0.9"], GATEWAY, "198.51.100.1"),  # two gateways
        ("10.0.0.5", ["198.51.100.1:4711"], GATEWAY, "198.51.100.1"),
        ("203.0.113.7", ["198.51.100.1"], GATEWAY, "203.0.113.7"),  # not from the gateway
        # The server (uvicorn's proxy headers) put a header's address in place of the peer:
        ("198.51.100.1", ["198.51.100.1"], [], UNVERIFIED),
        ("198.51.100.2", ["198.51.100.1, 198.51.100.2"], [], UNVERIFIED),
        ("198.51.100.1", ["198.51.100.1"], GATEWAY, "198.51.100.1"),  # what we would pick
        ("6.6.6.6", ["6.6.6.6, 198.51.100.1"], GATEWAY, UNVERIFIED),  # not what we would pick
        ("2001:db8::1", ["[2001:db8::1]:443"], [], UNVERIFIED),
        (None, [], [], UNVERIFIED),
    ],
)
def test_the_address_counted(
    peer: str | None,
    forwarded: list[str],
    gateways: list[ipaddress.IPv4Network],
    expected: str,
) -> None:
    assert client_address(peer, forwarded, gateways) == expected
