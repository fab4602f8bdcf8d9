"""Fixtures of the invitations tests: a REAL SMTP server (aiosmtpd) on loopback, a settable
clock, and the service wired to the real MongoDB-wire server (see tests/support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .support import Harness, ScriptedHandler, SettableClock, SmtpServer, free_port, settings_for


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port(), ScriptedHandler())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
async def make_harness(
    mongo_db: Any,
    mongodb_uri: str,
    database_name: str,
    smtp_server: SmtpServer,
    clock: SettableClock,
) -> AsyncIterator[Any]:
    """``await make_harness(**settings)``: the service on this test's database, closed after."""
    import httpx

    from portal_invitations.bootstrap import bootstrap
    from portal_invitations.entrypoints.http import create_app

    made: list[Harness] = []

    async def make(kafka: str = "127.0.0.1:1", prefix: str = "", **overrides: Any) -> Harness:
        settings = settings_for(kafka, mongodb_uri, database_name, smtp_server, prefix, **overrides)
        service = bootstrap(settings, clock=clock)
        service.sender.jitter = lambda: 0.0
        await service.prepare()
        app = create_app(service)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        http = httpx.AsyncClient(transport=transport, base_url="http://invitations")
        harness = Harness(service, http, smtp_server, clock)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.http.aclose()
        await harness.service.close()
