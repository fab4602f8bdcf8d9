"""The importer's named failures; the HTTP edge maps them to problem+json in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal_importer.domain.model import ImportRecord
    from portal_importer.domain.report import Report


class ImportNotFound(Exception):
    """No such import in the caller's office, or not one the caller may see."""


class RowNotFound(Exception):
    pass


class UnknownColumn(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class ConcurrentChange(Exception):
    """Someone else changed the import meanwhile; reload and retry."""


class ImportInvalid(Exception):
    """A confirmation refused: the report says why."""

    def __init__(self, record: ImportRecord, report: Report) -> None:
        super().__init__("import.invalid")
        self.record = record
        self.report = report
