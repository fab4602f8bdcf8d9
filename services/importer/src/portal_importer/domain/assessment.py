"""Putting an import's report together from checked rows and what is known about the file.

Kept apart from reading so the same assembly runs after an upload, after a row is fixed or
deleted through the API (rows come back from storage), and offline on the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from portal_importer.domain.columns import CATALOGUE
from portal_importer.domain.report import Problem, Report
from portal_importer.domain.rows import ColumnMap
from portal_importer.domain.validation import (
    Availability,
    CheckedRow,
    RowProblem,
    duplicates_in_file,
    unusable_on_platform,
)

REQUIRED_KEYS = tuple(c.key for c in CATALOGUE if c.required)


@dataclass(frozen=True)
class FileFacts:
    """What the file itself says, independent of any row: stored with the import."""

    headers: Mapping[str, str] = field(default_factory=dict)  # column key -> header as written
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @classmethod
    def of(
        cls,
        column_map: ColumnMap | None,
        *,
        sheet_warnings: Iterable[tuple[str, Mapping[str, str]]] = (),
        skipped_examples: Iterable[int] = (),
    ) -> FileFacts:
        warnings = [Problem(None, None, None, code, dict(p)) for code, p in sheet_warnings]
        warnings += [Problem(row, None, None, "row.example_skipped") for row in skipped_examples]
        if column_map is None:
            return cls({}, (Problem(None, None, None, "sheet.no_header"),), tuple(warnings))
        headers = {p.column.key: p.header for p in column_map.placed}
        errors = [Problem(None, h, None, "column.duplicate") for _, h in column_map.duplicates]
        errors += [
            Problem(None, None, key, "column.missing")
            for key in REQUIRED_KEYS
            if key not in headers
        ]
        warnings += [Problem(None, h, None, "column.unknown") for _, h in column_map.unknown]
        return cls(headers, tuple(errors), tuple(warnings))

    @property
    def missing_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.errors if p.code == "column.missing" and p.key)


def assess(
    facts: FileFacts,
    rows: Sequence[CheckedRow],
    availability: Availability | None,
    *,
    offline: bool = True,
    extra_errors: Iterable[Problem] = (),
) -> Report:
    """The report of an import. ``availability=None``: the platform was not asked — a warning
    offline (command line), an error in the service (the check could not be made)."""
    missing = facts.missing_keys
    found: dict[int, list[RowProblem]] = {}
    for checked in rows:
        own = [
            p
            for p in checked.problems
            if not (p.key in missing and p.code == "field.required")  # said once, for the column
        ]
        if own:
            found[checked.row] = own
    for extra in (
        duplicates_in_file(rows),
        unusable_on_platform(rows, availability) if availability is not None else {},
    ):
        for row, problems in extra.items():
            found.setdefault(row, []).extend(problems)
    errors = [*facts.errors, *extra_errors]
    for row, problems in found.items():
        errors += [
            Problem(row, facts.headers.get(p.key or ""), p.key, p.code, p.params) for p in problems
        ]
    if not rows and not any(p.code == "sheet.no_header" for p in facts.errors):
        errors.append(Problem(None, None, None, "sheet.no_rows"))
    warnings = list(facts.warnings)
    if availability is None and offline:
        warnings.append(Problem(None, None, None, "uniqueness.offline"))
    elif availability is None:
        errors.append(Problem(None, None, None, "uniqueness.unavailable"))
    return Report.of(len(rows), errors, warnings, uniqueness_checked=availability is not None)
