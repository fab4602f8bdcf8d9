"""The column catalogue: every column of the import template, keyed by its ClientData field path.

One entry per column says its header in French, Dutch and English, how a cell is read (free
text, drop-down, yes/no, number, date, the office's groups), and the instructions shown to the
accountant. Headers match in any language, so a Dutch template uploaded by a French user reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from portal_importer.domain.catalogue import CATALOGUE, YES_NO
from portal_importer.domain.column_model import LANGUAGES, Choice, Column, Kind, Texts
from portal_importer.domain.text import match_key

__all__ = [
    "BY_KEY",
    "CATALOGUE",
    "HEADERS",
    "LANGUAGES",
    "YES_NO",
    "Choice",
    "Column",
    "Kind",
    "Texts",
]

BY_KEY: Mapping[str, Column] = {column.key: column for column in CATALOGUE}

# Rule paths that name a group of columns point at the column the accountant should look at.
_PATH_FALLBACKS: Mapping[str, str] = {
    "bank_accounts": "bank_accounts.0",
    "sales_ledger_accounts": "sales_ledger_accounts.0.default",
    "integration.timing": "integration.timing.when",
    "integration.target": "integration.target.kind",
    "company": "company.name",
    "user": "user.email",
}


def column_for_path(path: str) -> Column | None:
    """The catalogue column a rule's field path belongs to (``None`` for whole-row problems)."""
    if path in BY_KEY:
        return BY_KEY[path]
    if path in _PATH_FALLBACKS:
        return BY_KEY[_PATH_FALLBACKS[path]]
    for column in CATALOGUE:
        if column.key.startswith(path + "."):
            return column
    return None


@dataclass(frozen=True)
class HeaderIndex:
    """Every spelling a header may take, in every language, mapped to its column."""

    by_match_key: Mapping[str, Column] = field(default_factory=dict)

    @classmethod
    def build(cls) -> HeaderIndex:
        index: dict[str, Column] = {}
        for column in CATALOGUE:
            spellings = [*column.headers.values(), *column.aliases, column.key]
            for spelling in spellings:
                index.setdefault(match_key(spelling), column)
        return cls(index)

    def find(self, header: str) -> Column | None:
        return self.by_match_key.get(match_key(header))


HEADERS = HeaderIndex.build()


def choice_index(column: Column) -> Mapping[str, str]:
    """Every label (all languages) and enum value of a drop-down column, to the enum value."""
    index: dict[str, str] = {}
    for choice in column.choices:
        index.setdefault(match_key(choice.value), choice.value)
        for label in choice.labels.values():
            index.setdefault(match_key(label), choice.value)
    if column.kind is Kind.YES_NO:
        for word, value in (
            ("true", "yes"),
            ("false", "no"),
            ("1", "yes"),
            ("0", "no"),
            ("x", "yes"),
            ("y", "yes"),
            ("n", "no"),
        ):
            index.setdefault(word, value)
    return index
