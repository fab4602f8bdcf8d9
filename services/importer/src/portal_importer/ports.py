"""What the importer needs from the outside world, as Protocols (adapters and fakes implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from portal_contracts.identity import Caller
from portal_contracts.values import TransferMethod
from portal_importer.domain.model import ImportRecord
from portal_importer.domain.validation import Availability, CheckedRow


class PlatformUnavailable(Exception):
    """The clients service could not answer; the check is reported as not made."""


class PlatformAvailability(Protocol):
    async def check(
        self, emails: Sequence[str], vat_numbers: Sequence[str], *, bearer_token: str | None = None
    ) -> Availability:
        """ONE batch call: which of these e-mails / VAT numbers are already on the platform."""
        ...


@dataclass(frozen=True)
class OfficeSettings:
    """What the office's settings allow; ``None`` where the clients service did not say."""

    groups: dict[str, str] | None  # group id -> name
    enabled_transfer_methods: frozenset[TransferMethod] | None


class OfficeDirectory(Protocol):
    async def settings(self, caller: Caller, bearer_token: str) -> OfficeSettings: ...


class ImportRepository(Protocol):
    async def store_rows(
        self, import_id: str, office_id: str, generation: int, rows: Sequence[CheckedRow]
    ) -> str:
        """Store ``rows`` under a new reference (overwriting nothing); returns it for
        ``ImportRecord.rows_ref``."""
        ...

    async def drop_rows(self, record: ImportRecord) -> None:
        """Delete the rows ``record.rows_ref`` points to (no longer referenced)."""
        ...

    async def add(self, record: ImportRecord) -> None: ...

    async def get(self, office_id: str, import_id: str) -> ImportRecord | None: ...

    async def recent(self, office_id: str, limit: int) -> list[ImportRecord]: ...

    async def save(self, record: ImportRecord) -> bool:
        """Write ``record`` if nobody else wrote since it was read (its revision); bump it."""
        ...

    async def rows(
        self, record: ImportRecord, *, cells: bool = False, clients: bool = False
    ) -> list[CheckedRow]:
        """The current rows in row order; their cells and stored clients only when asked."""
        ...

    async def row(self, record: ImportRecord, number: int) -> CheckedRow | None:
        """Row ``number`` with its cells; None when there is no such row."""
        ...

    async def put_row(self, record: ImportRecord, row: CheckedRow | None, number: int) -> bool:
        """Replace (or, with ``None``, delete) row ``number``; False when there is no such row."""
        ...

    async def unpublished(self, limit: int) -> list[ImportRecord]:
        """Confirmed, not yet published imports (a scan: the relay's safety net)."""
        ...

    async def announce(self, record: ImportRecord) -> None:
        """Tell the relay an import was just confirmed (a hint; losing it only delays)."""
        ...

    async def announced(self, limit: int) -> list[tuple[str, str]]:
        """(office id, import id) of the imports announced and not yet forgotten."""
        ...

    async def forget_announcement(self, import_id: str) -> None: ...

    async def mark_published(self, record: ImportRecord) -> None: ...

    async def record_answer(
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
