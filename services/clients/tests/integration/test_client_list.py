"""The client list at a size where it is read in windows (1,600 clients in one office): every
order, direction and filter pages exactly like one sorted query, fences only tune the cost, and
an office that grew gets new fences."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from portal_client_rules import OfficeRules, check_client
from portal_clients.adapters.client_list import FENCE_EVERY
from portal_clients.domain.listing import ClientQuery, Cursor, SortKey
from portal_clients.service import imports
from portal_clients.testing.samples import client_form
from portal_contracts.imports import ImportRow, ImportValidated, ImportValidatedPayload
from portal_contracts.values import ClientStatus, TransferMethod

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

OFFICE = "office-a"
N = 1_600
RULES = OfficeRules(frozenset({TransferMethod.MANUAL}), None, date.today())


async def _import(service, numbers: range, import_id: str) -> None:
    rows = [
        ImportRow(
            row_number=n + 2,
            invite=False,
            client=check_client(
                client_form(n, company={"name": f"Firma {n * 7919 % N:05d}"}), RULES
            ),
        )
        for n in numbers
    ]
    chunk = ImportValidated.new(
        office_id=OFFICE,
        payload=ImportValidatedPayload(
            import_id=import_id,
            version=1,
            chunk_index=0,
            chunk_count=1,
            row_count=len(rows),
            rows=rows,
        ),
    )
    await imports.import_validated(chunk, service.deps)


@pytest.fixture
async def office(service):
    service.deps.imports.rows_per_transaction = 10_000
    await _import(service, range(N), "big")
    clients = service.runtime.db["clients"]
    # Some variety for the filters (written directly: only the list is under test here).
    await clients.update_many(
        {"sort.company_name": {"$regex": "[02468]\x1f"}}, {"$set": {"status": "active"}}
    )
    await clients.update_many(
        {"sort.company_name": {"$regex": "5\x1f"}}, {"$set": {"data.group_id": "g1"}}
    )
    assert await service.deps.clients.lists.refence(OFFICE)
    return service


async def _walk(store, **fields) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(N):
        query = ClientQuery(office_id=OFFICE, limit=50, after=cursor, **fields)
        page = await store.page(query)
        seen += [row.client_id for row in page.items]
        if page.next_cursor is None:
            return seen
        cursor = Cursor.decode(page.next_cursor)
    raise AssertionError("the pages never ended")


async def _expected(service, match: dict, sort: SortKey, descending: bool) -> list[str]:
    found = service.runtime.db["clients"].find({"office_id": OFFICE, **match}, {"_id": 1})
    ordered = found.sort(f"sort.{sort.value}", -1 if descending else 1)
    return [doc["_id"] async for doc in ordered]


SHAPES = [
    ({}, {}),
    ({"statuses": frozenset({ClientStatus.ACTIVE})}, {"status": "active"}),
    (
        {"statuses": frozenset({ClientStatus.ACTIVE, ClientStatus.NOT_INVITED})},
        {"status": {"$in": ["active", "not_invited"]}},
    ),
    ({"group_id": "g1"}, {"data.group_id": "g1"}),
    ({"visible_groups": frozenset({"everyone"})}, {"data.group_id": "everyone"}),
]


@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [False, True])
async def test_windowed_pages_equal_one_sorted_query(office, sort, descending) -> None:
    fences = (await office.runtime.db["client_lists"].find_one({"_id": OFFICE}))["fences"]
    assert len(fences[sort.value]) == N // FENCE_EVERY
    for fields, match in SHAPES:
        got = await _walk(office.deps.clients, sort=sort, descending=descending, **fields)
        assert got == await _expected(office, match, sort, descending), fields


async def test_fences_only_tune_the_cost(office) -> None:
    lists = office.runtime.db["client_lists"]
    expected = await _walk(office.deps.clients, statuses=frozenset({ClientStatus.ACTIVE}))
    for fences in ([], [f"{OFFICE}\x1fzzz"], [f"{OFFICE}\x1f{c}" for c in "0123456789abcdefz"]):
        await lists.update_one({"_id": OFFICE}, {"$set": {"fences.company_name": fences}})
        assert (
            await _walk(office.deps.clients, statuses=frozenset({ClientStatus.ACTIVE})) == expected
        )


async def test_a_search_pages_through_its_matches(office) -> None:
    got = await _walk(office.deps.clients, text="firma 001")
    expected = await _expected(
        office, {"data.company.name": {"$regex": "^Firma 001"}}, SortKey.COMPANY_NAME, False
    )
    assert got == expected
    assert len(got) == 100


async def test_an_office_that_grew_gets_new_fences(office) -> None:
    lists = office.runtime.db["client_lists"]
    before = await lists.find_one({"_id": OFFICE})
    assert (before["clients"], before["fenced"]) == (N, N)
    await _import(office, range(N, N + 800), "more")
    assert (await lists.find_one({"_id": OFFICE}))["clients"] == N + 800
    await office.deps.clients.page(ClientQuery(office_id=OFFICE))  # notices, refences behind
    for _ in range(100):
        if (await lists.find_one({"_id": OFFICE}))["fenced"] == N + 800:
            break
        await asyncio.sleep(0.1)
    after = await lists.find_one({"_id": OFFICE})
    assert after["fenced"] == N + 800
    assert len(after["fences"]["email"]) == (N + 800) // FENCE_EVERY
