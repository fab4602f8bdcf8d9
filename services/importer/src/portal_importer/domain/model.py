"""An import and its life: pending (editable) -> confirmed (ImportValidated on its way) -> done;
a rejection by the clients service puts it back to pending with the rejected rows flagged.

``version`` counts content changes (a new file, a fixed or deleted row): every confirmation goes
out under the version it validated, so a late answer about an older version changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.columns import column_for_path
from portal_importer.domain.report import Problem
from portal_importer.domain.validation import Availability


class ImportStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DONE = "done"


class ImportStateError(Exception):
    """A request the import's state forbids; ``code`` picks the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Rejection:
    row: int
    field: str
    code: str


@dataclass(frozen=True)
class Confirmation:
    version: int
    correlation_id: str
    confirmed_at: datetime


@dataclass(frozen=True)
class Upload:
    version: int
    filename: str
    uploaded_at: datetime
    rows: int


@dataclass(frozen=True)
class ImportRecord:
    import_id: str
    office_id: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: ImportStatus
    version: int  # content version, see the module docstring
    rows_id: str  # which stored rows are the import's (a new id for every uploaded file)
    revision: int  # optimistic concurrency: every write is conditional on it
    facts: FileFacts
    availability: Availability | None  # None: the platform could not be asked
    rows: int = 0
    errors: int = 0
    uploads: tuple[Upload, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    confirmation: Confirmation | None = None
    clients_created: int = 0  # which row became which client is kept beside (repository)

    @property
    def editable(self) -> bool:
        return self.status is ImportStatus.PENDING

    def ensure_editable(self) -> None:
        if not self.editable:
            raise ImportStateError("import.not_editable")

    def edited(
        self,
        now: datetime,
        *,
        rows: int,
        errors: int,
        availability: Availability | None,
        drop_rejections_of: Sequence[int] = (),
    ) -> ImportRecord:
        self.ensure_editable()
        dropped = set(drop_rejections_of)
        return replace(
            self,
            version=self.version + 1,
            updated_at=now,
            rows=rows,
            errors=errors,
            availability=availability,
            rejections=tuple(r for r in self.rejections if r.row not in dropped),
        )

    def rejection_problems(self) -> list[Problem]:
        return [
            Problem(
                r.row, self.facts.headers.get(_column_key(r.field)), _column_key(r.field), r.code
            )
            for r in self.rejections
        ]

    def confirmed(self, now: datetime, correlation_id: str) -> ImportRecord:
        if self.status is not ImportStatus.PENDING:
            raise ImportStateError("import.not_editable")
        if self.errors or self.rejections or self.rows == 0:
            raise ImportStateError("import.invalid")
        return replace(
            self,
            status=ImportStatus.CONFIRMED,
            updated_at=now,
            confirmation=Confirmation(self.version, correlation_id, now),
        )

    def committed(
        self, version: int, client_ids: Mapping[int, str], now: datetime
    ) -> ImportRecord | None:
        """``None`` when the answer is stale or already applied (idempotent consumer)."""
        if self.status is not ImportStatus.CONFIRMED or version != self.version:
            return None
        return replace(
            self, status=ImportStatus.DONE, clients_created=len(client_ids), updated_at=now
        )

    def rejected(
        self, version: int, rows: Sequence[Rejection], now: datetime
    ) -> ImportRecord | None:
        if self.status is not ImportStatus.CONFIRMED or version != self.version:
            return None
        return replace(
            self,
            status=ImportStatus.PENDING,
            confirmation=None,
            rejections=tuple(rows),
            updated_at=now,
        )


def _column_key(field_path: str) -> str:
    column = column_for_path(field_path)
    return column.key if column else field_path
