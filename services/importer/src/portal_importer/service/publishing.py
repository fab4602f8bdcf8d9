"""Confirmed imports go out as ImportValidated chunks; the clients service answers with
ImportCommitted or ImportRejected.

The outbox: confirming writes only the import's state (one document, atomic, conditional on its
revision). The relay finds confirmed-but-unpublished imports, rebuilds their chunks from the stored
rows — deterministically, event ids included (uuid5 of import, version and chunk) — publishes them
and marks the import published. A crash in between republishes the very same events, which the
clients service absorbs by event id. The events are not stored in the document itself because a
100,000-row import is tens of MB of events, over the 16 MB document cap.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from portal_client_rules import OfficeRules
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportCommitted,
    ImportRejected,
    ImportRow,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.values import TransferMethod
from portal_importer.domain.model import ImportRecord, Rejection
from portal_importer.domain.validation import CheckedRow, RowContext, client_data
from portal_importer.ports import ImportRepository

logger = logging.getLogger(__name__)

EVENT_NAMESPACE = uuid.UUID("6f0b7c1e-4a55-4b8e-9a43-2d1c9e0f5a10")
ENVELOPE_ALLOWANCE = 8 * 1024  # envelope fields and JSON framing around the rows


def chunk_event_id(import_id: str, version: int, chunk: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{import_id}:{version}:{chunk}")


def import_rows(record: ImportRecord, rows: Sequence[CheckedRow]) -> list[ImportRow]:
    """The normalised client of every row. The office's rules were applied when the rows were
    checked; normalising does not depend on them, so permissive rules give the same data."""
    confirmed_on = (
        record.confirmation.confirmed_at if record.confirmation else record.updated_at
    ).date()
    context = RowContext(OfficeRules(frozenset(TransferMethod), None, confirmed_on))
    return [
        ImportRow(row_number=row.row, invite=row.invite, client=client_data(row, context))
        for row in sorted(rows, key=lambda r: r.row)
    ]


def build_chunks(
    record: ImportRecord, rows: Sequence[ImportRow], max_bytes: int = MAX_CHUNK_BYTES
) -> list[ImportValidated]:
    """ImportValidated events, none of which serialises to more than ``max_bytes``."""
    budget = max_bytes - ENVELOPE_ALLOWANCE
    groups: list[list[ImportRow]] = [[]]
    size = 0
    for row in rows:
        row_size = len(row.model_dump_json()) + 1
        if groups[-1] and size + row_size > budget:
            groups.append([])
            size = 0
        groups[-1].append(row)
        size += row_size
    assert record.confirmation is not None  # noqa: S101 - only confirmed imports are published
    correlation = uuid.UUID(record.confirmation.correlation_id)
    events = []
    for index, group in enumerate(groups):
        payload = ImportValidatedPayload(
            import_id=record.import_id,
            version=record.version,
            chunk_index=index,
            chunk_count=len(groups),
            row_count=len(rows),
            rows=group,
        )
        event = ImportValidated.new(
            office_id=record.office_id, payload=payload, correlation_id=correlation
        )
        events.append(
            event.model_copy(
                update={"event_id": chunk_event_id(record.import_id, record.version, index)}
            )
        )
    return events


def _events_of(record: ImportRecord, rows: Sequence[CheckedRow]) -> list[ImportValidated]:
    return build_chunks(record, import_rows(record, rows))


@dataclass
class ImportRelay:
    """Publishes confirmed imports; run by the worker, woken after a confirmation."""

    repository: ImportRepository
    publish: Callable[[ImportValidated], Awaitable[None]]
    poll_interval_s: float = 0.5

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def relay_once(self) -> int:
        published = 0
        for record in await self.repository.unpublished(limit=20):
            rows = await self.repository.rows(record)
            events = await asyncio.to_thread(_events_of, record, rows)
            for event in events:
                await self.publish(event)
            await self.repository.mark_published(record)
            published += len(events)
            logger.info(
                "import %s v%d published in %d chunk(s)",
                record.import_id,
                record.version,
                len(events),
            )
        return published

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                count = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("import relay pass failed; retrying")
                count = 0
            if count == 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
                except TimeoutError:
                    pass
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="import-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


# --- answers from the clients service -------------------------------------------------------------


async def _apply(
    repository: ImportRepository,
    office_id: str,
    import_id: str,
    change: Callable[[ImportRecord], ImportRecord | None],
    attempts: int = 5,
) -> bool:
    """Apply ``change`` with optimistic retries; False when it was stale or already applied."""
    for _ in range(attempts):
        record = await repository.get(office_id, import_id)
        if record is None:
            logger.warning("answer for unknown import %s of office %s", import_id, office_id)
            return False
        updated = change(record)
        if updated is None:
            return False
        if await repository.save(updated):
            return True
    raise RuntimeError(f"import {import_id} kept changing; the answer will be retried")


async def on_import_committed(
    event: ImportCommitted,
    repository: ImportRepository,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    payload = event.payload
    client_ids: Mapping[int, str] = payload.client_ids
    return await _apply(
        repository,
        event.office_id,
        payload.import_id,
        lambda r: r.committed(payload.version, client_ids, now()),
    )


async def on_import_rejected(
    event: ImportRejected,
    repository: ImportRepository,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    payload = event.payload
    rejections = [Rejection(r.row_number, r.field, r.code) for r in payload.rows]
    return await _apply(
        repository,
        event.office_id,
        payload.import_id,
        lambda r: r.rejected(payload.version, rejections, now()),
    )
