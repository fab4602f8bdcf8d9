"""What the importer needs from the outside world, as Protocols (adapters and fakes implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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
    async def add(self, record: ImportRecord, rows: Sequence[CheckedRow]) -> None: ...

    async def get(self, office_id: str, import_id: str) -> ImportRecord | None: ...

    async def recent(self, office_id: str, limit: int) -> list[ImportRecord]: ...

    async def save(self, record: ImportRecord) -> bool:
        """Write ``record`` if nobody else wrote since it was read (its revision); bump it."""
        ...

    async def rows(self, record: ImportRecord) -> list[CheckedRow]: ...

    async def replace_rows(self, record: ImportRecord, rows: Sequence[CheckedRow]) -> None:
        """Store ``rows`` as generation ``record.generation`` (a new uploaded file)."""
        ...

    async def put_row(self, record: ImportRecord, row: CheckedRow | None, number: int) -> bool:
        """Replace (or, with ``None``, delete) row ``number``; False when there is no such row."""
        ...

    async def unpublished(self, limit: int) -> list[ImportRecord]: ...

    async def mark_published(self, record: ImportRecord) -> None: ...
