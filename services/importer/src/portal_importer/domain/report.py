"""The import report: every problem with its Excel row, the column header as written in the file,
a stable code and (when rendered) a message in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal_importer.domain.columns import BY_KEY
from portal_importer.domain.messages import message


@dataclass(frozen=True)
class Problem:
    row: int | None  # Excel row number; None for the file or a column as a whole
    column: str | None  # header as written in the file; None when the file has no such column
    key: str | None  # catalogue key (ClientData path), to name the column when it is absent
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    def column_label(self, language: str) -> str | None:
        if self.column is not None:
            return self.column
        column = BY_KEY.get(self.key or "")
        return column.header(language) if column else None

    def render(self, language: str) -> dict[str, Any]:
        params = dict(self.params)
        column = BY_KEY.get(self.key or "")
        if self.code == "field.choice" and column is not None and column.choices:
            # The drop-down's labels in the reader's language, not the enum values.
            params["choices"] = ", ".join(c.labels.get(language, c.value) for c in column.choices)
        return {
            "row": self.row,
            "column": self.column_label(language),
            "code": self.code,
            "message": message(self.code, language, params),
        }

    def to_document(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "key": self.key,
            "code": self.code,
            "params": dict(self.params),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Problem:
        return cls(doc["row"], doc["column"], doc["key"], doc["code"], dict(doc["params"]))


def _order(problem: Problem) -> tuple[int, str]:
    return (problem.row or 0, problem.key or "")


@dataclass(frozen=True)
class Report:
    rows: int  # data rows found (empty and example rows left out)
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    uniqueness_checked: bool = True

    @property
    def valid(self) -> bool:
        return not self.errors and self.rows > 0

    @classmethod
    def of(
        cls,
        rows: int,
        errors: Iterable[Problem],
        warnings: Iterable[Problem] = (),
        *,
        uniqueness_checked: bool = True,
    ) -> Report:
        return cls(
            rows,
            tuple(sorted(errors, key=_order)),
            tuple(sorted(warnings, key=_order)),
            uniqueness_checked,
        )

    def render(self, language: str) -> dict[str, Any]:
        """The JSON shape of the CLI and the API."""
        return {
            "valid": self.valid,
            "rows": self.rows,
            "uniqueness_checked": self.uniqueness_checked,
            "errors": [p.render(language) for p in self.errors],
            "warnings": [p.render(language) for p in self.warnings],
        }
