"""The in-memory client list of one process learns of another process's writes through the
change log the relay appends to (two repositories on one database stand for two processes)."""

from __future__ import annotations

import asyncio

import pytest

from portal_clients.adapters.relay import MarkerRelay
from portal_clients.adapters.vies import SkippedRegister
from portal_clients.bootstrap import build_deps
from portal_clients.domain.listing import ClientQuery
from portal_clients.service.clients import ClientInput, create_client
from portal_clients.testing.samples import client_form
from portal_contracts.identity import Caller, Role

pytestmark = pytest.mark.integration

CALLER = Caller(office_id="office-a", user_id="u", role=Role.ADMIN)


async def _ids(store) -> set[str]:
    return {r.client_id for r in (await store.page(ClientQuery(office_id="office-a"))).items}


async def test_another_process_write_reaches_the_list_through_the_log(mongo_db) -> None:
    api_a = build_deps(mongo_db, SkippedRegister())
    api_b = build_deps(mongo_db, SkippedRegister())
    await api_a.clients.ensure_indexes()
    first = await create_client(ClientInput(client_form(1), skip_vat_check=True), CALLER, api_a)
    assert await _ids(api_a.clients) == {first.client_id}  # its own write: at once

    second = await create_client(ClientInput(client_form(2), skip_vat_check=True), CALLER, api_b)
    assert await _ids(api_a.clients) == {first.client_id}  # not relayed yet

    async def ignore(entry: dict) -> None:
        return None

    assert await MarkerRelay(mongo_db, ignore).relay_once() == 2
    cache = api_a.clients.list_cache
    cache.refresh_s = 0.0
    for _ in range(50):
        if await _ids(api_a.clients) == {first.client_id, second.client_id}:
            break
        await asyncio.sleep(0.05)
    assert await _ids(api_a.clients) == {first.client_id, second.client_id}

    cache.reload_after_s = 0.0  # an old copy is rebuilt in the background, still served meanwhile
    assert await _ids(api_a.clients) == {first.client_id, second.client_id}
    for _ in range(100):
        if not cache._reloads:
            break
        await asyncio.sleep(0.05)
    assert await _ids(api_a.clients) == {first.client_id, second.client_id}
