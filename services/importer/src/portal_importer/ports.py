"""What the importer needs from the outside world, as Protocols in the importer's own terms
(adapters and test fakes implement them; how they store things is theirs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from portal_contracts.identity import Caller
from portal_contracts.values import TransferMethod
from portal_importer.domain.chunks import Chunk
from portal_importer.domain.model import ImportRecord
from portal_importer.domain.sheet import SheetRows
from portal_importer.domain.validation import Availability, CheckedRow


class PlatformUnavailable(Exception):
    """The clients service could not answer; the check is reported as not made."""


class PlatformAvailability(Protocol):
    async def check(
        self, emails: Sequence[str], vat_numbers: Sequence[str], *, bearer_token: str | None = None
    ) -> Availability:
        """Which of these e-mails / VAT numbers a new client of the caller's office cannot use."""
        ...


@dataclass(frozen=True)
class OfficeSettings:
    """What the office's settings allow; ``None`` where the clients service did not say."""

    groups: dict[str, str] | None  # group id -> name
    enabled_transfer_methods: frozenset[TransferMethod] | None
    connections: dict[str, TransferMethod] | None = None  # delivery's names, as clients knows them


class OfficeDirectory(Protocol):
    async def settings(self, caller: Caller, bearer_token: str) -> OfficeSettings: ...


class WorkbookReader(Protocol):
    def __call__(self, data: bytes) -> SheetRows | None:
        """The data sheet of an upload (None: no recognisable header); raises
        UnreadableWorkbook for anything that cannot be imported. Blocking: run in a thread."""
        ...


@dataclass(frozen=True)
class RowChange:
    """Row ``number`` replaced by ``row``, or deleted (``row`` None)."""

    number: int
    row: CheckedRow | None


class ImportRepository(Protocol):
    async def add_rows(self, import_id: str, rows_id: str, rows: Sequence[CheckedRow]) -> None:
        """Keep rows of an uploaded file under ``rows_id``, before an import refers to them."""
        ...

    async def drop_rows(self, import_id: str, rows_id: str) -> None:
        """Forget the rows of one file (replaced by another, or never referred to)."""
        ...

    def rows(
        self, record: ImportRecord, *, clients: bool = False
    ) -> AsyncIterator[list[CheckedRow]]:
        """The import's rows in row order, a batch at a time: their outcomes (what a report
        needs), with their clients when asked, never their cells."""
        ...

    async def row(self, record: ImportRecord, number: int) -> CheckedRow | None:
        """Row ``number`` whole: its cells and client too."""
        ...

    async def add(self, record: ImportRecord) -> None: ...

    async def get(self, office_id: str, import_id: str) -> ImportRecord | None: ...

    async def recent(
        self, office_id: str, limit: int, *, created_by: str | None = None
    ) -> list[ImportRecord]:
        """The office's latest imports (only those ``created_by`` uploaded, when given)."""
        ...

    async def save(self, record: ImportRecord, *, change: RowChange | None = None) -> bool:
        """Write ``record`` (and ``change``, together) unless someone wrote the import since
        ``record`` was read; False then, and nothing is written."""
        ...

    async def confirm(self, record: ImportRecord, chunks: Sequence[Chunk]) -> bool:
        """Save the confirmed ``record`` and hand its ImportValidated ``chunks`` over for
        publication, all or nothing (False: someone wrote the import meanwhile)."""
        ...

    async def interrupted_confirmation(self) -> ImportRecord | None:
        """A confirmed import whose chunks were not all handed over (its confirmer stopped
        half-way), claimed for a while by this caller; None when there is none."""
        ...

    async def resume_confirmation(self, record: ImportRecord, chunks: Sequence[Chunk]) -> None:
        """Hand over the chunks of a confirmed import that are not yet on their way."""
        ...

    async def keep_answer(
        self,
        record: ImportRecord,
        version: int,
        kind: str,
        part: int,
        parts: int,
        content: list[list[Any]],
    ) -> list[list[list[Any]]] | None:
        """Keep one part of the clients service's answer (idempotent, by its natural key); every
        part's content, in order, once all ``parts`` are in, else None."""
        ...
