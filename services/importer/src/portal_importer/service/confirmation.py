"""Confirming an import: check it again (the platform-wide availability too), then save the
confirmation and hand its ImportValidated chunks over for publication, all or nothing.

Confirming twice imports once: a confirmed or done import answers as it is, and of concurrent
confirmations (or a confirmation and a fix) exactly one write wins. A confirmation whose chunks
were not all handed over (the API stopped half-way through a very big import) is finished by
a worker: the same rows give the same chunks, event ids included.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import replace
from datetime import date

from portal_importer.domain.chunks import EncodedRows, build_chunks, encode_rows
from portal_importer.domain.commands import Confirm
from portal_importer.domain.errors import ConcurrentChange, ImportInvalid
from portal_importer.domain.model import ImportRecord, ImportStatus, Rejection
from portal_importer.domain.validation import CheckedRow
from portal_importer.service.deps import Deps
from portal_importer.service.imports import (
    assess_import,
    availability,
    next_revision,
    visible,
)

logger = logging.getLogger(__name__)


async def confirm(command: Confirm, deps: Deps) -> ImportRecord:
    started = time.perf_counter()
    record = await visible(command.caller, command.import_id, deps)
    if record.status is not ImportStatus.PENDING:
        return record
    outcomes, encoded, refused = await _read(record, deps.now().date(), deps)
    read = time.perf_counter()
    fresh = replace(
        record,
        availability=await availability(outcomes, command.token, deps),
        rejections=tuple(dict.fromkeys((*record.rejections, *refused))),
    )
    report = assess_import(fresh, outcomes)
    fresh = replace(fresh, rows=report.rows, errors=len(report.errors))
    asked = time.perf_counter()
    if not report.valid:
        if await deps.imports.save(fresh):
            fresh = next_revision(fresh)
        raise ImportInvalid(fresh, report)
    confirmed = fresh.confirmed(deps.now(), str(uuid.uuid4()))
    chunks = await asyncio.to_thread(build_chunks, confirmed, encoded)
    built = time.perf_counter()
    if not await deps.imports.confirm(confirmed, chunks):
        latest = await visible(command.caller, command.import_id, deps)
        if latest.status is ImportStatus.PENDING:
            raise ConcurrentChange(command.import_id)
        return latest  # a concurrent confirmation won: same outcome, one publication
    logger.info(
        "import %s v%d confirmed (%d rows, %d chunks): rows read %.3f s, availability and "
        "assessed %.3f s, chunks built %.3f s, saved with its chunks %.3f s",
        record.import_id,
        confirmed.version,
        len(outcomes),
        len(chunks),
        read - started,
        asked - read,
        built - asked,
        time.perf_counter() - built,
    )
    return next_revision(confirmed)


async def resume_confirmation(deps: Deps) -> int:
    """Finish one interrupted confirmation; how many chunks it holds (0: none was waiting)."""
    record = await deps.imports.interrupted_confirmation()
    if record is None or record.confirmation is None:
        return 0
    _, encoded, refused = await _read(record, record.confirmation.confirmed_at.date(), deps)
    if refused:  # the rules changed under it: it cannot go out as it is
        logger.error("import %s cannot be sent: %s", record.import_id, refused[:5])
        rejected = record.rejected(record.version, refused, deps.now())
        if rejected is not None:
            await deps.imports.save(rejected)
        return 0
    chunks = await asyncio.to_thread(build_chunks, record, encoded)
    await deps.imports.resume_confirmation(record, chunks)
    logger.info("import %s v%d: confirmation resumed", record.import_id, record.version)
    return len(chunks)


async def _read(
    record: ImportRecord, confirmed_on: date, deps: Deps
) -> tuple[list[CheckedRow], list[bytes], list[Rejection]]:
    """One pass over the rows: their outcomes for the report, the rows without a problem of
    their own as ImportRow JSON in row order (encoded in a thread while the next batch is
    fetched), and the rows whose client cannot be built any more."""
    outcomes: list[CheckedRow] = []
    encoded = EncodedRows()
    encoding: asyncio.Future[EncodedRows] | None = None
    async for batch in deps.imports.rows(record, clients=True):
        outcomes += [row.outcome() for row in batch]
        valid = [row for row in batch if row.valid]
        if encoding is not None:
            encoded.add(await encoding)
        encoding = asyncio.ensure_future(asyncio.to_thread(encode_rows, valid, confirmed_on))
    if encoding is not None:
        encoded.add(await encoding)
    for number in encoded.stale:  # rare: read again with the cells, normalised again
        row = await deps.imports.row(record, number)
        if row is not None:
            encoded.add(encode_rows([row], confirmed_on))
    return outcomes, [text for _, text in sorted(encoded.rows)], encoded.refused
