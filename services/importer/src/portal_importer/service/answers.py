"""The clients service's answer to a confirmed import: ImportCommitted (the import is done) or
ImportRejected (back to pending, the rows that lost flagged), each in parts of at most
``ANSWER_ROWS_PER_PART`` rows. The outcome is known once every part is in.

Each part is kept by its natural key (import, version, answer, part), idempotently; the import
changes once, when the last part arrives, by a write conditional on its revision. Stale (another
version) or repeated answers change nothing, so at-least-once delivery is enough and several
workers may consume: a crash between keeping a part and changing the import leaves the part
unacknowledged, it comes again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_importer.domain.model import ImportRecord, ImportStatus, Rejection
from portal_importer.ports import ImportRepository
from portal_importer.service.deps import Deps

logger = logging.getLogger(__name__)


async def apply_change(
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


async def _awaited(
    repository: ImportRepository, office_id: str, import_id: str, version: int
) -> ImportRecord | None:
    """The import when it is waiting for this version's answer; None for a stale or repeated one."""
    record = await repository.get(office_id, import_id)
    if record is None:
        logger.warning("answer for unknown import %s of office %s", import_id, office_id)
        return None
    if record.status is not ImportStatus.CONFIRMED or record.version != version:
        return None
    return record


async def _every_part(
    repository: ImportRepository,
    event: ImportCommitted | ImportRejected,
    kind: str,
    rows: list[list[Any]],
) -> list[list[list[Any]]] | None:
    """Keep this part; every part's rows once the last is in, else None (stale, or more to come)."""
    p = event.payload
    record = await _awaited(repository, event.office_id, p.import_id, p.version)
    if record is None:
        return None
    return await repository.keep_answer(record, p.version, kind, p.chunk_index, p.chunk_count, rows)


async def record_commitment(event: ImportCommitted, deps: Deps) -> bool:
    """The clients service created the import's clients: done, once every part is in."""
    p = event.payload
    rows: list[list[Any]] = [[row, cid] for row, cid in sorted(p.client_ids.items())]
    parts = await _every_part(deps.imports, event, "committed", rows)
    if parts is None:
        return False
    client_ids = {int(row): str(client_id) for part in parts for row, client_id in part}
    return await apply_change(
        deps.imports,
        event.office_id,
        p.import_id,
        lambda r: r.committed(p.version, client_ids, deps.now()),
    )


async def record_rejection(event: ImportRejected, deps: Deps) -> bool:
    """The clients service refused rows: back to pending with them flagged, once every part is in."""
    p = event.payload
    rows: list[list[Any]] = [[r.row_number, r.field, r.code] for r in p.rows]
    parts = await _every_part(deps.imports, event, "rejected", rows)
    if parts is None:
        return False
    rejections = [Rejection(int(row), str(f), str(code)) for part in parts for row, f, code in part]
    return await apply_change(
        deps.imports,
        event.office_id,
        p.import_id,
        lambda r: r.rejected(p.version, rejections, deps.now()),
    )
