"""The relay on the real FerretDB after crashes: a confirmation whose hint was lost, chunks sent
but the import not marked published, and an import that cannot be published next to one that can.
Chunks are collected in memory here; test_confirm_on_kafka sends them to the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from portal_contracts.imports import ImportValidated
from portal_importer.adapters.documents import row_to_document
from portal_importer.adapters.mongo import MongoImports
from portal_importer.bootstrap import Bootstrapped
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.validation import Availability, check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row, fill_template
from portal_importer.service.publishing import Chunk
from portal_importer.service.relay import ImportRelay

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[..., dict[str, str]]


class Collected:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []

    async def __call__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks.extend(chunks)

    def events(self) -> list[ImportValidated]:
        return [ImportValidated.model_validate_json(c.body) for c in self.chunks]


async def _confirm(api: httpx.AsyncClient, auth: Auth, rows: int, first: int = 1) -> str:
    data = fill_template([client_row(n) for n in range(first, first + rows)])
    created = await api.post("/v1/imports", files={"file": ("c.xlsx", data, XLSX)}, headers=auth())
    assert created.status_code == 201, created.text
    import_id: str = created.json()["id"]
    confirmed = await api.post(f"/v1/imports/{import_id}/confirm", headers=auth())
    assert confirmed.status_code == 202, confirmed.text
    return import_id


async def _record(repository: MongoImports, import_id: str) -> ImportRecord:
    record = await repository.get("office-a", import_id)
    assert record is not None
    return record


async def test_a_confirmation_is_published_from_its_hint_at_once(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    import_id = await _confirm(api, auth, 3)
    assert await repository.announced(10) == [("office-a", import_id)]
    sent = Collected()
    relay = ImportRelay(repository, sent, sweep_interval_s=3600)
    relay._next_sweep = float("inf")  # hints only: no scan of the imports
    assert await relay.relay_once() == 1
    assert await repository.announced(10) == []  # the hint is consumed
    assert (await _record(repository, import_id)).confirmation.published  # type: ignore[union-attr]
    assert await relay.relay_once() == 0
    assert [r.row_number for r in sent.events()[0].payload.rows] == [3, 4, 5]


async def test_a_confirmation_whose_hint_was_lost_is_found_by_the_scan(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    """A crash right after the confirmation was saved, before the hint: a worker starting
    afterwards scans the imports first and publishes it."""
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    import_id = await _confirm(api, auth, 3)
    await repository.forget_announcement(import_id)  # the hint never got written
    sent = Collected()
    assert await ImportRelay(repository, sent).relay_once() == 1  # a fresh worker's first pass
    assert {e.payload.import_id for e in sent.events()} == {import_id}


async def test_a_crash_before_marking_published_sends_the_same_events_again(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)

    class CrashingBeforeTheMark(MongoImports):
        async def mark_published(self, record: ImportRecord) -> None:
            raise ConnectionError("the worker died here")

    import_id = await _confirm(api, auth, 3)
    crashed = CrashingBeforeTheMark(repository.imports.database, chunk_rows=200)
    first = Collected()
    assert await ImportRelay(crashed, first).relay_once() == 0  # sent, then "crashed"
    assert len(first.chunks) == 1
    assert await repository.announced(10) == [("office-a", import_id)]  # the hint stays

    second = Collected()
    assert await ImportRelay(repository, second).relay_once() == 1  # the restarted worker
    assert [c.event_id for c in second.chunks] == [c.event_id for c in first.chunks]
    assert [e.payload for e in second.events()] == [e.payload for e in first.events()]
    assert await ImportRelay(repository, Collected()).relay_once() == 0  # now once and for all


async def test_an_import_that_cannot_be_published_does_not_hold_up_the_others(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    broken_id = await _confirm(api, auth, 2)
    good_id = await _confirm(api, auth, 2, first=10)
    broken = await _record(repository, broken_id)
    # Its rows are gone (as if deleted by hand): it can only fail.
    await repository.drop_rows(broken)

    sent = Collected()
    now = [0.0]
    relay = ImportRelay(repository, sent, clock=lambda: now[0])
    assert await relay.relay_once() == 1
    assert {e.payload.import_id for e in sent.events()} == {good_id}
    assert await repository.announced(10) == [("office-a", broken_id)]  # kept, retried later
    assert await relay.relay_once() == 0  # paused: not retried on every pass
    now[0] += 60
    assert await relay.relay_once() == 0  # retried, still failing, paused longer
    assert relay._retry_at[broken_id][1] == 2


async def test_a_row_fixed_after_a_rejection_goes_out_with_its_new_client(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    import_id = await _confirm(api, auth, 2)
    sent = Collected()
    relay = ImportRelay(repository, sent)
    assert await relay.relay_once() == 1
    record = await _record(repository, import_id)
    rejected = record.rejected(1, [], record.updated_at)
    assert rejected is not None
    assert await repository.save(replace(rejected, status=ImportStatus.PENDING))
    fixed = await api.patch(
        f"/v1/imports/{import_id}/rows/4",
        json={"cells": {"user.email": "Autre@Bureau-Example.be "}},
        headers=auth(),
    )
    assert fixed.status_code == 200, fixed.text
    again = await api.post(f"/v1/imports/{import_id}/confirm", headers=auth())
    assert again.status_code == 202, again.text
    assert await relay.relay_once() == 1
    rows = sent.events()[-1].payload.rows
    assert sent.events()[-1].payload.version == 2
    assert [r.client.user.email for r in rows] == [
        "client1@bureau-example.be",
        "autre@bureau-example.be",
    ]


async def test_relay_keeps_running_through_a_pass_that_fails(wired: Bootstrapped) -> None:
    class Down(MongoImports):
        async def announced(self, limit: int) -> list[tuple[str, str]]:
            raise ConnectionError("FerretDB restarting")

    repository = wired.repository
    assert isinstance(repository, MongoImports)
    relay = ImportRelay(Down(repository.imports.database), Collected(), poll_interval_s=0.01)
    relay.start()
    await asyncio.sleep(0.1)
    task: Any = relay._loop._task  # the shared PollingLoop runs it
    assert task is not None
    assert not task.done()
    await relay.stop()


async def test_clients_stored_under_another_schema_are_normalised_again(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    """Rows checked before a ClientData change: their stored JSON is not trusted."""
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    import_id = await _confirm(api, auth, 3)
    changed = await repository.chunks.update_many(
        {"import_id": import_id}, {"$set": {"client_schema": "before-a-contract-change"}}
    )
    assert changed.modified_count == 1
    sent = Collected()
    assert await ImportRelay(repository, sent).relay_once() == 1
    rows = sent.events()[0].payload.rows
    assert [r.client.user.email for r in rows] == [
        f"client{n}@bureau-example.be" for n in (1, 2, 3)
    ]


async def test_an_import_confirmed_before_the_packed_rows_is_still_published(
    wired: Bootstrapped,
) -> None:
    """Rows stored the old way (one nested document per row, found by scanning)."""
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    rows = [check_row(n + 2, client_row(n), offline_context()) for n in (1, 2)]
    record = ImportRecord(
        import_id="old-1",
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.PENDING,
        version=1,
        generation=1,
        revision=0,
        facts=FileFacts({}),
        availability=Availability(),
        rows=2,
    ).confirmed(NOW, str(uuid.uuid4()))
    await repository.chunks.insert_one(
        {
            "_id": "old-1:1:0",
            "import_id": "old-1",
            "office_id": "office-a",
            "generation": 1,
            "first_row": 3,
            "last_row": 4,
            "rows": [row_to_document(r) for r in rows],
        }
    )
    await repository.add(record)
    assert [r.row for r in await repository.rows(record)] == [3, 4]
    sent = Collected()
    assert await ImportRelay(repository, sent).relay_once() == 1
    assert [r.client.user.email for r in sent.events()[0].payload.rows] == [
        "client1@bureau-example.be",
        "client2@bureau-example.be",
    ]


async def test_rows_the_rules_now_refuse_send_the_import_back_instead_of_blocking(
    api: httpx.AsyncClient, auth: Auth, wired: Bootstrapped
) -> None:
    """A row stored without its client whose cells the rules refuse at publication (a rule
    changed, a date went too old): nothing is sent, the import is back to pending, row flagged."""
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    import_id = await _confirm(api, auth, 2)
    record = await _record(repository, import_id)
    row = await repository.row(record, 4)
    assert row is not None
    bad = replace(row, cells={**row.cells, "user.email": "plus une adresse"}, client=None)
    assert await repository.put_row(record, bad, 4)

    sent = Collected()
    assert await ImportRelay(repository, sent).relay_once() == 0
    assert sent.chunks == []
    assert await repository.announced(10) == []  # settled, not retried
    back = await _record(repository, import_id)
    assert back.status is ImportStatus.PENDING
    assert [(r.row, r.field, r.code) for r in back.rejections] == [
        (4, "user.email", "email.syntax")
    ]
