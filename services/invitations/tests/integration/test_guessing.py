"""Guessing links against the real HTTP server: uvicorn as `make up` runs it (proxy headers on,
X-Forwarded-For trusted from 127.0.0.1), on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from portal_invitations.entrypoints.http import create_app

from ..support import bearer, client_created, free_port, token_in

pytestmark = pytest.mark.integration

ACCEPT = "/v1/invitations/accept"
PASSWORD = "cheval correct agrafe pile"


@contextlib.asynccontextmanager
async def served(service: Any) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await task


def guess(n: int) -> dict[str, str]:
    return {"token": f"guess-{n:03d}-" + "x" * 40, "password": PASSWORD, "mobile_phone": "0470"}


async def test_a_rotated_x_forwarded_for_does_not_get_past_the_limit(make_harness: Any) -> None:
    h = await make_harness(accept_ip_limit=30)
    async with served(h.service) as http:
        codes = [
            (
                await http.post(
                    ACCEPT, json=guess(n), headers={"X-Forwarded-For": f"198.51.100.{n}"}
                )
            ).status_code
            for n in range(40)
        ]
    assert codes[:30] == [400] * 30
    assert codes[30:] == [429] * 10


async def test_others_guesses_never_lock_out_the_holder_of_a_valid_link(make_harness: Any) -> None:
    h = await make_harness(accept_ip_limit=30)
    await h.record(client_created("office-a", "c-1"))
    invited = await h.http.post("/v1/invitations/clients/c-1", headers=bearer("office-a"))
    assert invited.status_code == 202
    await h.send_due()
    token = token_in((await h.smtp.handler.wait_for(1))[-1])
    async with served(h.service) as http:
        codes = [(await http.post(ACCEPT, json=guess(n))).status_code for n in range(31)]
        assert codes == [400] * 30 + [429]  # this address is over its limit...
        body = {"token": token, "password": PASSWORD, "mobile_phone": "+32470123456"}
        accepted = await http.post(ACCEPT, json=body)
    assert accepted.status_code == 200, accepted.text  # ...but a valid link still gets in


async def test_behind_a_gateway_each_client_has_its_own_limit(make_harness: Any) -> None:
    h = await make_harness(accept_ip_limit=30, trusted_gateways=["127.0.0.1"])
    async with served(h.service) as http:

        async def from_(client: str, n: int) -> int:
            # The gateway appends the address it saw to what the client sent.
            headers = {"X-Forwarded-For": f"203.0.113.250, {client}"}
            return (await http.post(ACCEPT, json=guess(n), headers=headers)).status_code

        codes = [await from_("198.51.100.1", n) for n in range(31)]
        assert codes == [400] * 30 + [429]
        assert await from_("198.51.100.2", 99) == 400  # another client behind the same gateway
