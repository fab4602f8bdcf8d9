"""Writes of one import conditional on its revision: exactly one of concurrent writers wins, on
FerretDB whose own conditional updates are not atomic."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from portal_importer.adapters.mongo import MongoImports
from portal_importer.bootstrap import Bootstrapped
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.validation import Availability

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _record(import_id: str) -> ImportRecord:
    return ImportRecord(
        import_id=import_id,
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
        rows=1,
    )


async def test_of_concurrent_writes_of_one_revision_exactly_one_wins(
    wired: Bootstrapped,
) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    double = 0
    for race in range(15):
        record = _record(f"race-{race}")
        await repository.add(record)
        writers = [replace(record, version=2 + n, errors=n) for n in range(3)]
        won = await asyncio.gather(*(repository.save(w) for w in writers))
        assert sum(won) >= 1
        double += sum(won) > 1
        stored = await repository.get("office-a", record.import_id)
        assert stored is not None
        assert stored.revision == 1
        assert [w.version for w, ok in zip(writers, won, strict=True) if ok] == [stored.version]
    assert double == 0


async def test_a_lease_left_by_a_dead_writer_expires(wired: Bootstrapped) -> None:
    repository = wired.repository
    assert isinstance(repository, MongoImports)
    record = _record("left-behind")
    await repository.add(record)
    leases = repository.leases.collection
    await leases.insert_one(
        {
            "_id": "left-behind",
            "token": "dead",
            "expires_at": datetime.now(UTC) + timedelta(hours=1),
        }
    )
    repository.leases.wait_s = 0.2
    assert not await repository.save(replace(record, version=2))  # held: as if changed meanwhile
    await leases.update_one(
        {"_id": "left-behind"}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert await repository.save(replace(record, version=2))  # expired: taken over
    assert await leases.count_documents({}) == 0  # and released
