"""The clients service's answer in parts, on the real server: the import changes once every
part is in, whatever their order, however often one comes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from portal_contracts.imports import (
    ImportCommitted,
    ImportCommittedPayload,
    ImportRejected,
    ImportRejectedPayload,
    RejectedRow,
)
from portal_importer.bootstrap import Service
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.validation import Availability
from portal_importer.ports import ImportRepository
from portal_importer.service.handlers import record_commitment, record_rejection

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


async def _confirmed(repository: ImportRepository, import_id: str) -> ImportRecord:
    record = ImportRecord(
        import_id=import_id,
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.PENDING,
        version=2,
        rows_id="r1",
        revision=0,
        facts=FileFacts({"user.email": "E-mail"}),
        availability=Availability(),
        rows=6,
    ).confirmed(NOW, str(uuid.uuid4()))
    await repository.add(record)
    return record


def _committed(import_id: str, index: int, rows: range, version: int = 2) -> ImportCommitted:
    return ImportCommitted.new(
        office_id="office-a",
        payload=ImportCommittedPayload(
            import_id=import_id,
            version=version,
            client_ids={row: f"c-{row}" for row in rows},
            chunk_index=index,
            chunk_count=3,
        ),
    )


async def test_done_once_every_part_is_in_whatever_the_order(service: Service) -> None:
    deps = service.deps
    repository = deps.imports
    await _confirmed(repository, "imp-parts")
    parts = [_committed("imp-parts", i, range(3 + 2 * i, 5 + 2 * i)) for i in range(3)]
    assert not await record_commitment(parts[2], deps)
    assert not await record_commitment(parts[2], deps)  # a repeated part
    assert not await record_commitment(_committed("imp-parts", 0, range(3, 5), 1), deps)
    assert not await record_commitment(parts[0], deps)
    waiting = await repository.get("office-a", "imp-parts")
    assert waiting is not None
    assert waiting.status is ImportStatus.CONFIRMED
    assert await record_commitment(parts[1], deps)  # the last one
    done = await repository.get("office-a", "imp-parts")
    assert done is not None
    assert done.status is ImportStatus.DONE
    assert done.clients_created == 6
    assert not await record_commitment(parts[1], deps)  # after: nothing changes


async def test_every_part_of_a_rejection_flags_its_rows(service: Service) -> None:
    deps = service.deps
    repository = deps.imports
    await _confirmed(repository, "imp-refused")

    def part(index: int, row: int) -> ImportRejected:
        return ImportRejected.new(
            office_id="office-a",
            payload=ImportRejectedPayload(
                import_id="imp-refused",
                version=2,
                rows=[RejectedRow(row_number=row, field="user.email", code="email.taken")],
                chunk_index=index,
                chunk_count=2,
            ),
        )

    assert not await record_rejection(part(1, 7000), deps)
    assert await record_rejection(part(0, 4), deps)
    back = await repository.get("office-a", "imp-refused")
    assert back is not None
    assert back.status is ImportStatus.PENDING
    assert [(r.row, r.code) for r in back.rejections] == [(4, "email.taken"), (7000, "email.taken")]
