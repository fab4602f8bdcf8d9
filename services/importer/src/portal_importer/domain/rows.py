"""From a spreadsheet row to the ClientData-shaped mapping the shared client rules check.

A row is kept as ``{column key: trimmed text}`` (what the accountant typed, stored with the import
and editable through the API); :func:`to_raw` turns it into the nested, un-normalised mapping
``check_client`` expects, translating drop-down labels in any language into enum values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from portal_importer.domain.columns import (
    BY_KEY,
    CATALOGUE,
    HEADERS,
    Column,
    Kind,
    choice_index,
)
from portal_importer.domain.text import match_key

Cells = Mapping[str, str]  # column key -> trimmed text, empty cells left out

_CHOICES: Mapping[str, Mapping[str, str]] = {
    column.key: choice_index(column) for column in CATALOGUE if column.choices
}
_GENERAL_SETTINGS = {
    match_key(text) for text in ("Paramètres généraux", "Algemene instellingen", "General settings")
}
EXAMPLE_EMAILS = frozenset(
    {"jean.dupont@exemple.be", "jan.peeters@voorbeeld.be", "john.smith@example.com"}
)


@dataclass(frozen=True)
class PlacedColumn:
    index: int  # 0-based position in the sheet
    column: Column
    header: str  # as written in the file


@dataclass(frozen=True)
class ColumnMap:
    """Which sheet column holds which catalogue column; the rest is reported, never guessed."""

    placed: tuple[PlacedColumn, ...]
    unknown: tuple[tuple[int, str], ...] = ()
    duplicates: tuple[tuple[int, str], ...] = ()
    by_key: Mapping[str, PlacedColumn] = field(default_factory=dict)

    def header_of(self, key: str) -> str | None:
        placed = self.by_key.get(key)
        return placed.header if placed else None

    def cells_of(self, values: Sequence[Any], text_of: Any) -> dict[str, str]:
        cells: dict[str, str] = {}
        width = len(values)
        for placed in self.placed:
            if placed.index < width:
                text = text_of(values[placed.index])
                if text:
                    cells[placed.column.key] = text
        return cells


def map_headers(headers: Sequence[str]) -> ColumnMap:
    placed: list[PlacedColumn] = []
    unknown: list[tuple[int, str]] = []
    duplicates: list[tuple[int, str]] = []
    by_key: dict[str, PlacedColumn] = {}
    for index, header in enumerate(headers):
        if not header.strip():
            continue
        column = HEADERS.find(header)
        if column is None:
            unknown.append((index, header))
        elif column.key in by_key:
            duplicates.append((index, header))
        else:
            by_key[column.key] = PlacedColumn(index, column, header.strip())
            placed.append(by_key[column.key])
    return ColumnMap(tuple(placed), tuple(unknown), tuple(duplicates), by_key)


def header_score(headers: Sequence[str]) -> int:
    """How many catalogue columns a candidate header row names (to find the header row)."""
    return len({c.key for h in headers if h and (c := HEADERS.find(h)) is not None})


def is_example(cells: Cells) -> bool:
    return cells.get("user.email", "").casefold() in EXAMPLE_EMAILS


@dataclass(frozen=True)
class GroupNames:
    """The office's groups by name, so a row may name its group instead of quoting its id."""

    ids_by_name: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, groups: Mapping[str, str]) -> GroupNames:  # id -> name
        return cls({match_key(name): group_id for group_id, name in groups.items()})

    def resolve(self, text: str) -> str:
        return self.ids_by_name.get(match_key(text), text)


# Columns that are not client data but say what to do with the row: yes / no (empty: no).
ROW_FLAGS = ("invite", "skip_vat_check")


@dataclass(frozen=True)
class RawRow:
    raw: dict[str, Any]
    invite: bool | None  # None: the cell holds something that is not yes or no
    ledger_positions: tuple[int, ...]  # rule index -> catalogue index of sales ledger accounts
    skip_vat_check: bool | None = False  # "don't check the VAT number" (None: not yes or no)


def _translate(column: Column, text: str, groups: GroupNames) -> str:
    if column.kind is Kind.GROUP:
        return groups.resolve(text)
    choices = _CHOICES.get(column.key)
    if choices is None:
        return text
    key = match_key(text)
    if column.key == "integration.timing.when" and key in _GENERAL_SETTINGS:
        return ""
    # An unknown label is passed on as typed: the shared rules name the problem.
    return choices.get(key, text)


@lru_cache(maxsize=256)
def _path(key: str) -> tuple[str, ...]:
    return tuple(key.split("."))


def to_raw(cells: Cells, groups: GroupNames) -> RawRow:
    raw: dict[str, Any] = {}
    ledgers: dict[int, dict[str, str]] = {}
    banks: list[str | None] = []
    flags: dict[str, bool | None] = dict.fromkeys(ROW_FLAGS, False)
    for key, text in cells.items():
        column = BY_KEY[key]
        value = _translate(column, text, groups)
        if key in flags:
            flags[key] = {"yes": True, "no": False}.get(value)
            continue
        parts = _path(key)
        if parts[0] == "bank_accounts":
            position = int(parts[1])
            banks.extend([None] * (position + 1 - len(banks)))
            banks[position] = value
        elif parts[0] == "sales_ledger_accounts":
            ledgers.setdefault(int(parts[1]), {})[parts[2]] = value
        else:
            target: dict[str, Any] = raw
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    if banks:
        raw["bank_accounts"] = banks  # gaps stay as None so a rule's index is the column's
    positions = tuple(sorted(ledgers))
    if positions:
        raw["sales_ledger_accounts"] = [ledgers[p] for p in positions]
    return RawRow(raw, flags["invite"], positions, flags["skip_vat_check"])


def catalogue_key(path: str, ledger_positions: Sequence[int]) -> str:
    """A rule's field path in catalogue terms (sales ledger accounts were compacted)."""
    parts = path.split(".")
    if parts[0] == "sales_ledger_accounts" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(ledger_positions):
            parts[1] = str(ledger_positions[index])
            return ".".join(parts)
    return path
