"""The importer's use cases: upload, report, fix or delete rows, new version, confirm, list.

Blocking work (reading the workbook, checking rows) runs in a thread; the platform-wide
uniqueness check is ONE batch call per validation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from portal_client_rules import OfficeRules
from portal_contracts.identity import Caller, Role
from portal_contracts.values import TransferMethod
from portal_importer.adapters.xlsx_package import ReadLimits
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.domain.assessment import FileFacts, assess
from portal_importer.domain.columns import BY_KEY, HEADERS
from portal_importer.domain.model import ImportRecord, ImportStateError, ImportStatus, Upload
from portal_importer.domain.report import Report
from portal_importer.domain.rows import GroupNames
from portal_importer.domain.validation import (
    Availability,
    CheckedRow,
    RowContext,
    check_row,
    uniqueness_keys,
)
from portal_importer.ports import (
    ImportRepository,
    OfficeDirectory,
    OfficeSettings,
    PlatformAvailability,
    PlatformUnavailable,
)
from portal_importer.service.engine import SheetCheck, check_sheet

logger = logging.getLogger(__name__)


class ImportNotFound(Exception):
    pass


class RowNotFound(Exception):
    pass


class UnknownColumn(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class ConcurrentChange(Exception):
    """Someone else changed the import meanwhile; reload and retry."""


class ImportInvalid(Exception):
    def __init__(self, record: ImportRecord, report: Report) -> None:
        super().__init__("import.invalid")
        self.record = record
        self.report = report


@dataclass
class Importer:
    repository: ImportRepository
    platform: PlatformAvailability
    directory: OfficeDirectory
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    executor: Executor | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    wake_publisher: Callable[[], None] = lambda: None

    # --- reading and checking ---------------------------------------------------------------

    async def context_for(self, caller: Caller, token: str) -> RowContext:
        settings = await self.directory.settings(caller, token)
        return row_context(settings, self.now().date())

    async def _check_file(
        self, data: bytes, context: RowContext
    ) -> tuple[SheetCheck, list[CheckedRow]]:
        def work() -> tuple[SheetCheck, list[CheckedRow]]:
            stored: list[CheckedRow] = []
            sheet = read_workbook(data, self.limits)  # raises UnreadableWorkbook
            checked = check_sheet(sheet, context, executor=self.executor, sink=stored.extend)
            return checked, stored

        return await asyncio.to_thread(work)

    async def _availability(self, rows: Sequence[CheckedRow], token: str) -> Availability | None:
        emails, vats = uniqueness_keys(rows)
        try:
            return await self.platform.check(emails, vats, bearer_token=token)
        except PlatformUnavailable:
            return None

    @staticmethod
    def assess(record: ImportRecord, rows: Sequence[CheckedRow]) -> Report:
        return assess(
            record.facts,
            rows,
            record.availability,
            offline=False,
            extra_errors=record.rejection_problems(),
        )

    # --- use cases --------------------------------------------------------------------------

    async def upload(
        self, caller: Caller, token: str, filename: str, data: bytes
    ) -> tuple[ImportRecord, Report]:
        started = time.perf_counter()
        context = await self.context_for(caller, token)
        asked = time.perf_counter()
        checked, rows = await self._check_file(data, context)
        read = time.perf_counter()
        import_id = str(uuid.uuid4())
        # Rows first (under a fresh reference): a crash before the import is written leaves
        # unreferenced rows, never an import without its rows.
        availability, rows_ref = await asyncio.gather(
            self._availability(rows, token),
            self.repository.store_rows(import_id, caller.office_id, 1, rows),
        )
        stored = time.perf_counter()
        now = self.now()
        record = ImportRecord(
            import_id=import_id,
            office_id=caller.office_id,
            created_by=caller.user_id,
            created_at=now,
            updated_at=now,
            status=ImportStatus.PENDING,
            version=1,
            generation=1,
            revision=0,
            facts=checked.facts,
            availability=availability,
            uploads=(Upload(1, filename, now, len(rows)),),
            rows_ref=rows_ref,
        )
        report = self.assess(record, rows)
        record = replace(record, rows=report.rows, errors=len(report.errors))
        await self.repository.add(record)
        logger.info(
            "import %s uploaded (%d rows, %d bytes): office settings %.3f s, read and checked "
            "%.3f s, availability and rows stored %.3f s, assessed and saved %.3f s",
            import_id,
            len(rows),
            len(data),
            asked - started,
            read - asked,
            stored - read,
            time.perf_counter() - stored,
        )
        return record, report

    async def get(self, caller: Caller, import_id: str) -> ImportRecord:
        record = await self.repository.get(caller.office_id, import_id)
        if record is None or not sees_import(caller, record):
            raise ImportNotFound(import_id)
        return record

    async def report(self, caller: Caller, import_id: str) -> tuple[ImportRecord, Report]:
        record = await self.get(caller, import_id)
        return record, self.assess(record, await self.repository.rows(record))

    async def recent(self, caller: Caller, limit: int = 100) -> list[ImportRecord]:
        records = await self.repository.recent(caller.office_id, limit)
        return [r for r in records if sees_import(caller, r)]

    async def new_version(
        self, caller: Caller, token: str, import_id: str, filename: str, data: bytes
    ) -> tuple[ImportRecord, Report]:
        record = await self.get(caller, import_id)
        record.ensure_editable()
        context = await self.context_for(caller, token)
        checked, rows = await self._check_file(data, context)
        generation = record.generation + 1
        availability, rows_ref = await asyncio.gather(
            self._availability(rows, token),
            self.repository.store_rows(import_id, caller.office_id, generation, rows),
        )
        now = self.now()
        updated = replace(
            record.edited(now, rows=0, errors=0, availability=availability),
            generation=generation,
            facts=checked.facts,
            rejections=(),
            uploads=(*record.uploads, Upload(record.version + 1, filename, now, len(rows))),
            rows_ref=rows_ref,
        )
        report = self.assess(updated, rows)
        updated = replace(updated, rows=report.rows, errors=len(report.errors))
        # The import switches to the new rows in one write; the old ones go afterwards.
        if not await self.repository.save(updated):
            await self.repository.drop_rows(updated)
            raise ConcurrentChange(import_id)
        await self.repository.drop_rows(record)
        return _next_revision(updated), report

    async def edit_row(
        self,
        caller: Caller,
        token: str,
        import_id: str,
        number: int,
        changes: Mapping[str, str | None],
    ) -> tuple[ImportRecord, Report]:
        record = await self.get(caller, import_id)
        record.ensure_editable()
        rows, target, context = await asyncio.gather(
            self.repository.rows(record),
            self.repository.row(record, number),
            self.context_for(caller, token),
        )
        if target is None:
            raise RowNotFound(str(number))
        position = _position(rows, number)
        cells = dict(target.cells)
        unreadable = set(target.unreadable)
        for name, value in changes.items():
            key = column_key(name)
            unreadable.discard(key)
            text = (value or "").strip()
            if text:
                cells[key] = text
            else:
                cells.pop(key, None)
        rows[position] = check_row(number, cells, context, frozenset(unreadable), keep_client=True)
        return await self._save_rows(record, rows, token, changed=rows[position], number=number)

    async def delete_row(
        self, caller: Caller, token: str, import_id: str, number: int
    ) -> tuple[ImportRecord, Report]:
        record = await self.get(caller, import_id)
        record.ensure_editable()
        rows = await self.repository.rows(record)
        del rows[_position(rows, number)]
        return await self._save_rows(record, rows, token, changed=None, number=number)

    async def revalidate(
        self, caller: Caller, token: str, import_id: str
    ) -> tuple[ImportRecord, Report]:
        """Ask the platform again (and forget an old rejection: the fresh check says the truth)."""
        record = await self.get(caller, import_id)
        record.ensure_editable()
        rows = await self.repository.rows(record)
        updated = replace(record, rejections=())
        return await self._save_rows(updated, rows, token, changed=None, number=None)

    async def _save_rows(
        self,
        record: ImportRecord,
        rows: list[CheckedRow],
        token: str,
        *,
        changed: CheckedRow | None,
        number: int | None,
    ) -> tuple[ImportRecord, Report]:
        availability = await self._availability(rows, token)
        updated = record.edited(
            self.now(),
            rows=0,
            errors=0,
            availability=availability,
            drop_rejections_of=[number] if number is not None else [],
        )
        report = self.assess(updated, rows)
        updated = replace(updated, rows=report.rows, errors=len(report.errors))
        if not await self.repository.save(updated):
            raise ConcurrentChange(record.import_id)
        if number is not None and not await self.repository.put_row(updated, changed, number):
            raise RowNotFound(str(number))
        return _next_revision(updated), report

    async def confirm(self, caller: Caller, token: str, import_id: str) -> ImportRecord:
        """Idempotent: a confirmed or done import answers as it is, nothing is sent twice."""
        started = time.perf_counter()
        record = await self.get(caller, import_id)
        if record.status is not ImportStatus.PENDING:
            return record
        rows = await self.repository.rows(record)
        read = time.perf_counter()
        fresh = replace(record, availability=await self._availability(rows, token))
        asked = time.perf_counter()
        report = self.assess(fresh, rows)
        fresh = replace(fresh, rows=report.rows, errors=len(report.errors))
        assessed = time.perf_counter()
        if not report.valid:
            if await self.repository.save(fresh):
                fresh = _next_revision(fresh)
            raise ImportInvalid(fresh, report)
        confirmed = fresh.confirmed(self.now(), str(uuid.uuid4()))
        if not await self.repository.save(confirmed):
            latest = await self.get(caller, import_id)
            if latest.status is ImportStatus.PENDING:
                raise ConcurrentChange(import_id)
            return latest  # a concurrent confirm won: same outcome, one publication
        try:
            await self.repository.announce(confirmed)
        except Exception:  # the relay's scan of confirmed imports finds it a little later
            logger.warning(
                "confirmed import %s not announced to the relay", import_id, exc_info=True
            )
        self.wake_publisher()
        logger.info(
            "import %s v%d confirmed (%d rows): read %.3f s, availability %.3f s, "
            "assessed %.3f s, saved %.3f s",
            import_id,
            confirmed.version,
            len(rows),
            read - started,
            asked - read,
            assessed - asked,
            time.perf_counter() - assessed,
        )
        return _next_revision(confirmed)


def sees_import(caller: Caller, record: ImportRecord) -> bool:
    """Admins see the office's imports; a staff member only their own: a report shows every
    row, and an admin's import may hold clients of groups the staff member does not see."""
    return caller.role is Role.ADMIN or record.created_by == caller.user_id


def _next_revision(record: ImportRecord) -> ImportRecord:
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


def row_context(settings: OfficeSettings, today: date) -> RowContext:
    methods = settings.enabled_transfer_methods
    return RowContext(
        OfficeRules(
            enabled_transfer_methods=methods if methods is not None else frozenset(TransferMethod),
            group_ids=frozenset(settings.groups) if settings.groups is not None else None,
            today=today,
        ),
        GroupNames.of(settings.groups or {}),
    )


__all__ = [
    "ConcurrentChange",
    "FileFacts",
    "ImportInvalid",
    "ImportNotFound",
    "ImportStateError",
    "Importer",
    "RowNotFound",
    "UnknownColumn",
]
