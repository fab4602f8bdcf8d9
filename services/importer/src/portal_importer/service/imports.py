"""The accountant's use cases before confirmation: upload, read the report, fix or delete a row,
upload a new version, check again, list.

Reading and checking a workbook blocks (calamine, the client rules): it runs in a thread, and the
checked rows go to storage batch by batch while the file is still being read, so a big file is
never held whole in memory. Every change is written conditionally on the import's revision.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import date

from portal_client_rules import OfficeRules
from portal_contracts.identity import Caller, Role
from portal_contracts.values import TransferMethod
from portal_importer.domain.assessment import assess
from portal_importer.domain.columns import BY_KEY, HEADERS
from portal_importer.domain.commands import (
    DeleteRow,
    EditRow,
    ListImports,
    NewVersion,
    OfferGroups,
    Revalidate,
    ShowImport,
    Upload,
)
from portal_importer.domain.errors import (
    ConcurrentChange,
    ImportNotFound,
    RowNotFound,
    UnknownColumn,
)
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.model import Upload as UploadedFile
from portal_importer.domain.report import Report
from portal_importer.domain.rows import GroupNames
from portal_importer.domain.validation import (
    Availability,
    CheckedRow,
    RowContext,
    check_row,
    uniqueness_keys,
)
from portal_importer.ports import OfficeSettings, PlatformUnavailable, RowChange
from portal_importer.service.deps import Deps
from portal_importer.service.engine import SheetCheck, check_sheet

logger = logging.getLogger(__name__)
IN_FLIGHT_BATCHES = 2  # row batches being stored while the next ones are read


async def upload(command: Upload, deps: Deps) -> tuple[ImportRecord, Report]:
    started = time.perf_counter()
    caller = command.caller
    import_id, rows_id = str(uuid.uuid4()), uuid.uuid4().hex
    context = await context_for(caller, command.token, deps)
    checked = await read_and_store(command.data, context, deps, import_id, rows_id)
    read = time.perf_counter()
    now = deps.now()
    record = ImportRecord(
        import_id=import_id,
        office_id=caller.office_id,
        created_by=caller.user_id,
        created_at=now,
        updated_at=now,
        status=ImportStatus.PENDING,
        version=1,
        rows_id=rows_id,
        revision=0,
        facts=checked.facts,
        availability=await availability(checked.rows, command.token, deps),
        uploads=(UploadedFile(1, command.filename, now, len(checked.rows)),),
    )
    report = assess_import(record, checked.rows)
    record = replace(record, rows=report.rows, errors=len(report.errors))
    await deps.imports.add(record)
    logger.info(
        "import %s uploaded (%d rows, %d bytes): read, checked and stored %.3f s, "
        "availability, assessed and saved %.3f s",
        import_id,
        len(checked.rows),
        len(command.data),
        read - started,
        time.perf_counter() - read,
    )
    return record, report


async def new_version(command: NewVersion, deps: Deps) -> tuple[ImportRecord, Report]:
    record = await editable(command.caller, command.import_id, deps)
    context = await context_for(command.caller, command.token, deps)
    rows_id = uuid.uuid4().hex
    checked = await read_and_store(command.data, context, deps, record.import_id, rows_id)
    now = deps.now()
    found = await availability(checked.rows, command.token, deps)
    updated = replace(
        record.edited(now, rows=0, errors=0, availability=found),
        rows_id=rows_id,
        facts=checked.facts,
        rejections=(),
        uploads=(
            *record.uploads,
            UploadedFile(record.version + 1, command.filename, now, len(checked.rows)),
        ),
    )
    report = assess_import(updated, checked.rows)
    updated = replace(updated, rows=report.rows, errors=len(report.errors))
    # The import switches to the new rows in one write; the rows it leaves go afterwards.
    if not await deps.imports.save(updated):
        await deps.imports.drop_rows(record.import_id, rows_id)
        raise ConcurrentChange(record.import_id)
    await deps.imports.drop_rows(record.import_id, record.rows_id)
    return next_revision(updated), report


async def show_import(query: ShowImport, deps: Deps) -> tuple[ImportRecord, Report]:
    record = await visible(query.caller, query.import_id, deps)
    return record, assess_import(record, await outcomes(record, deps))


async def list_imports(query: ListImports, deps: Deps) -> list[ImportRecord]:
    caller = query.caller
    own = None if caller.role is Role.ADMIN else caller.user_id
    return await deps.imports.recent(caller.office_id, query.limit, created_by=own)


async def offer_choices(query: OfferGroups, deps: Deps) -> tuple[list[str], list[str]]:
    """The template's drop-downs: the groups this caller may use, the office's connections."""
    settings = await office_settings(query.caller, query.token, deps)
    return sorted((settings.groups or {}).values()), sorted(settings.connections or {})


async def office_settings(caller: Caller, token: str, deps: Deps) -> OfficeSettings:
    """The office's settings as this caller may use them: only the groups the platform's one
    rule lets them see (``Caller.sees_group``: their groups and "Everyone"), whatever list the
    clients service answered."""
    settings = await deps.directory.settings(caller, token)
    if settings.groups is None:
        return settings
    groups = {g: name for g, name in settings.groups.items() if caller.sees_group(g)}
    return replace(settings, groups=groups)


async def edit_row(command: EditRow, deps: Deps) -> tuple[ImportRecord, Report]:
    record = await editable(command.caller, command.import_id, deps)
    target, rows, context = await asyncio.gather(
        deps.imports.row(record, command.row),
        outcomes(record, deps),
        context_for(command.caller, command.token, deps),
    )
    if target is None:
        raise RowNotFound(str(command.row))
    cells = dict(target.cells)
    unreadable = set(target.unreadable)
    for name, value in command.cells.items():
        key = column_key(name)
        unreadable.discard(key)
        text = (value or "").strip()
        if text:
            cells[key] = text
        else:
            cells.pop(key, None)
    fixed = check_row(command.row, cells, context, frozenset(unreadable), keep_client=True)
    rows[_position(rows, command.row)] = fixed.outcome()
    return await _save_rows(record, rows, command.token, deps, RowChange(command.row, fixed))


async def delete_row(command: DeleteRow, deps: Deps) -> tuple[ImportRecord, Report]:
    record = await editable(command.caller, command.import_id, deps)
    rows = await outcomes(record, deps)
    del rows[_position(rows, command.row)]
    return await _save_rows(record, rows, command.token, deps, RowChange(command.row, None))


async def revalidate(command: Revalidate, deps: Deps) -> tuple[ImportRecord, Report]:
    """Ask the platform again (and forget an old rejection: the fresh check says the truth)."""
    record = await editable(command.caller, command.import_id, deps)
    rows = await outcomes(record, deps)
    return await _save_rows(replace(record, rejections=()), rows, command.token, deps, None)


async def _save_rows(
    record: ImportRecord,
    rows: list[CheckedRow],
    token: str,
    deps: Deps,
    change: RowChange | None,
) -> tuple[ImportRecord, Report]:
    updated = record.edited(
        deps.now(),
        rows=0,
        errors=0,
        availability=await availability(rows, token, deps),
        drop_rejections_of=[change.number] if change is not None else [],
    )
    report = assess_import(updated, rows)
    updated = replace(updated, rows=report.rows, errors=len(report.errors))
    if not await deps.imports.save(updated, change=change):
        raise ConcurrentChange(record.import_id)
    return next_revision(updated), report


# --- shared by the handlers ----------------------------------------------------------------------


async def visible(caller: Caller, import_id: str, deps: Deps) -> ImportRecord:
    record = await deps.imports.get(caller.office_id, import_id)
    if record is None or not sees_import(caller, record):
        raise ImportNotFound(import_id)
    return record


async def editable(caller: Caller, import_id: str, deps: Deps) -> ImportRecord:
    record = await visible(caller, import_id, deps)
    record.ensure_editable()
    return record


def sees_import(caller: Caller, record: ImportRecord) -> bool:
    """Admins see the office's imports; a staff member only their own: a report shows every
    row, and an admin's import may hold clients of groups the staff member does not see."""
    return caller.role is Role.ADMIN or record.created_by == caller.user_id


async def outcomes(record: ImportRecord, deps: Deps) -> list[CheckedRow]:
    """Every row's outcome (what the report needs), without its cells and client."""
    return [row async for batch in deps.imports.rows(record) for row in batch]


async def availability(rows: Sequence[CheckedRow], token: str, deps: Deps) -> Availability | None:
    emails, vats = uniqueness_keys(rows)
    try:
        return await deps.platform.check(emails, vats, bearer_token=token)
    except PlatformUnavailable:
        return None


def assess_import(record: ImportRecord, rows: Sequence[CheckedRow]) -> Report:
    return assess(
        record.facts,
        rows,
        record.availability,
        offline=False,
        extra_errors=record.rejection_problems(),
    )


async def context_for(caller: Caller, token: str, deps: Deps) -> RowContext:
    return row_context(await office_settings(caller, token, deps), deps.now().date())


def row_context(settings: OfficeSettings, today: date) -> RowContext:
    methods = settings.enabled_transfer_methods
    return RowContext(
        OfficeRules(
            enabled_transfer_methods=methods if methods is not None else frozenset(TransferMethod),
            group_ids=frozenset(settings.groups) if settings.groups is not None else None,
            today=today,
            connections=settings.connections,
        ),
        GroupNames.of(settings.groups or {}),
    )


async def read_and_store(
    data: bytes, context: RowContext, deps: Deps, import_id: str, rows_id: str
) -> SheetCheck:
    """Read and check the file in a thread; its rows are stored under ``rows_id`` as they come
    (a few batches in flight). Nothing stays stored when the file is refused half-way."""
    loop = asyncio.get_running_loop()
    storing: deque[Future[None]] = deque()

    def store(batch: list[CheckedRow]) -> None:
        future = asyncio.run_coroutine_threadsafe(
            deps.imports.add_rows(import_id, rows_id, batch), loop
        )
        storing.append(future)
        while len(storing) > IN_FLIGHT_BATCHES:
            storing.popleft().result()

    def work() -> SheetCheck:
        try:
            checked = check_sheet(
                deps.read_workbook(data), context, executor=deps.executor, sink=store
            )
        except BaseException:
            for future in storing:
                future.exception()  # let what is on its way land, so that it is dropped too
            raise
        while storing:
            storing.popleft().result()
        return checked

    try:
        return await asyncio.to_thread(work)
    except BaseException:
        await deps.imports.drop_rows(import_id, rows_id)
        raise


def next_revision(record: ImportRecord) -> ImportRecord:
    return replace(record, revision=record.revision + 1)


def _position(rows: Sequence[CheckedRow], number: int) -> int:
    for position, row in enumerate(rows):
        if row.row == number:
            return position
    raise RowNotFound(str(number))


def column_key(name: str) -> str:
    """A column named by its key or by its header in any language."""
    if name in BY_KEY:
        return name
    column = HEADERS.find(name)
    if column is None:
        raise UnknownColumn(name)
    return column.key
