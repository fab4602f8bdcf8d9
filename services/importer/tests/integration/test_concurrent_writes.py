"""Writes of one import conditional on its revision, on the real server: of concurrent writers
exactly one wins, and a confirmation's chunks are queued once whoever else writes meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from portal_contracts.imports import ImportValidated
from portal_importer.bootstrap import Service
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.validation import Availability
from portal_importer.samples import client_row, fill_template

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[..., dict[str, str]]


def _record(import_id: str) -> ImportRecord:
    return ImportRecord(
        import_id=import_id,
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.PENDING,
        version=1,
        rows_id="r1",
        revision=0,
        facts=FileFacts({}),
        availability=Availability(),
        rows=1,
    )


async def queued_events(service: Service) -> list[ImportValidated]:
    records = await service.runtime.db["outbox"].find({}).sort("_id", 1).to_list()
    return [ImportValidated.model_validate_json(e["body"]) for r in records for e in r["events"]]


async def _uploaded(api: httpx.AsyncClient, auth: Auth, rows: int) -> str:
    data = fill_template([client_row(n) for n in range(1, rows + 1)])
    created = await api.post("/v1/imports", files={"file": ("c.xlsx", data, XLSX)}, headers=auth())
    assert created.status_code == 201, created.text
    import_id: str = created.json()["id"]
    return import_id


async def test_of_concurrent_writes_of_one_revision_exactly_one_wins(service: Service) -> None:
    imports = service.deps.imports
    for race in range(15):
        record = _record(f"race-{race}")
        await imports.add(record)
        writers = [replace(record, version=2 + n, errors=n) for n in range(3)]
        won = await asyncio.gather(*(imports.save(w) for w in writers))
        assert sum(won) == 1
        stored = await imports.get("office-a", record.import_id)
        assert stored is not None
        assert stored.revision == 1
        assert [w.version for w, ok in zip(writers, won, strict=True) if ok] == [stored.version]


async def test_concurrent_confirmations_queue_the_chunks_once(
    api: httpx.AsyncClient, auth: Auth, service: Service
) -> None:
    import_id = await _uploaded(api, auth, 400)
    url = f"/v1/imports/{import_id}/confirm"
    answers = await asyncio.gather(*(api.post(url, headers=auth()) for _ in range(4)))
    assert [a.status_code for a in answers] == [202] * 4
    assert {a.json()["status"] for a in answers} == {"confirmed"}
    events = await queued_events(service)
    assert [e.payload.chunk_index for e in events] == list(range(events[0].payload.chunk_count))
    assert [r.row_number for e in events for r in e.payload.rows] == list(range(3, 403))
    stored = await service.deps.imports.get("office-a", import_id)
    assert stored is not None
    assert stored.revision == 1  # uploaded (0), confirmed once (1)


async def test_a_fix_racing_a_confirmation_one_of_them_wins(
    api: httpx.AsyncClient, auth: Auth, service: Service
) -> None:
    for _ in range(3):
        import_id = await _uploaded(api, auth, 300)
        url = f"/v1/imports/{import_id}"
        fix = {"cells": {"user.email": "autre@bureau-example.be"}}
        confirmed, fixed = await asyncio.gather(
            api.post(f"{url}/confirm", headers=auth()),
            api.patch(f"{url}/rows/5", json=fix, headers=auth()),
        )
        stored = await service.deps.imports.get("office-a", import_id)
        assert stored is not None
        mine = [e for e in await queued_events(service) if e.payload.import_id == import_id]
        if stored.status is ImportStatus.CONFIRMED:  # the confirmation won: the fix was refused
            assert (confirmed.status_code, fixed.status_code) == (202, 409)
            emails = [r.client.user.email for e in mine for r in e.payload.rows]
            assert emails[2] == "client3@bureau-example.be"
            assert len(emails) == 300
        else:  # the fix won: nothing queued, the import says so
            assert fixed.status_code == 200
            assert confirmed.status_code == 409
            assert mine == []
            assert stored.version == 2
