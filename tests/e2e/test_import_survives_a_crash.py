"""The clients service's worker is killed (SIGKILL) in the middle of creating an import's clients:
nothing of the import is visible meanwhile, and once it is restarted the import completes, every
client exactly once.

The worker stores this import in transactions of 100 rows (CLIENTS_IMPORT_ROWS_PER_TRANSACTION,
as it does for imports too big for one), so there is a moment with some rows stored and not
all: the kill lands there."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pymongo import AsyncMongoClient

from portal_contracts.clients import ClientCreated
from portal_importer.samples import client_row
from tests.e2e.conftest import Stack, bearer, poll, read_events
from tests.e2e.test_import_creates_clients import OFFICE, XLSX, count_clients, fill

pytestmark = pytest.mark.e2e
ROWS = 2000


async def test_a_crash_mid_import_leaves_all_or_nothing_and_resumes_exactly_once(
    stack: Stack, http: httpx.AsyncClient, kafka_bootstrap: str, mongodb_uri: str
) -> None:
    stack.env["CLIENTS_IMPORT_ROWS_PER_TRANSACTION"] = "100"
    stack.start_api("clients")
    stack.start_worker("clients")
    stack.env["IMPORTER_CLIENTS_URL"] = stack.url("clients")
    stack.start_api("importer")
    stack.start_worker("importer")
    await stack.wait_healthy("clients")
    await stack.wait_healthy("importer")

    template = await http.get(
        stack.url("importer") + "/v1/imports/template", headers=bearer(OFFICE)
    )
    workbook = fill(template.content, [client_row(n) for n in range(1, ROWS + 1)])
    uploaded = await http.post(
        stack.url("importer") + "/v1/imports",
        headers=bearer(OFFICE),
        files={"file": ("clients.xlsx", workbook, XLSX)},
    )
    assert uploaded.json()["report"]["valid"] is True
    import_url = stack.url("importer") + f"/v1/imports/{uploaded.json()['id']}"
    assert (await http.post(import_url + "/confirm", headers=bearer(OFFICE))).status_code == 202

    # Kill the worker as soon as it has written some of the import's clients, not all.
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri)
    clients = mongo[stack.env["CLIENTS_DATABASE"]]["clients"]
    try:
        written = 0
        for _ in range(12_000):  # 120 s, polled closely: the batches take a second or two
            written = await clients.count_documents({})
            if written:
                break
            await asyncio.sleep(0.01)
        stack.kill("clients-worker")
        assert written < ROWS, "the import finished before the crash: make it bigger"
        # While the worker is down, nothing of the unfinished import is listed.
        assert await count_clients(http, stack) == 0
        assert (await http.get(import_url, headers=bearer(OFFICE))).json()["status"] != "done"

        stack.start_worker("clients")

        async def done() -> bool:
            return (await http.get(import_url, headers=bearer(OFFICE))).json()["status"] == "done"

        await poll(
            done, timeout_s=180, what="the import to complete after the restart", stack=stack
        )
        assert await count_clients(http, stack) == ROWS
        assert await clients.count_documents({}) == ROWS  # no stray copy of any row
    finally:
        await mongo.close()

    events = await read_events(kafka_bootstrap, stack.topics.of(ClientCreated), at_least=ROWS)
    created = [ClientCreated.model_validate(e) for e in events]
    by_client = {e.payload.client.client_id for e in created}
    assert len(by_client) == ROWS
    # At-least-once relay: a crash may republish an event, but always with the same event id.
    assert len({e.event_id for e in created}) == ROWS
