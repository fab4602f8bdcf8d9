"""What the reader hands the validation: the data sheet's header and its rows, or the reason the
upload cannot be read at all. The limits the importer states are here too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 100_000  # data rows per file; the header and a few title rows come on top
MAX_COLUMNS = 100


class UnreadableWorkbook(Exception):
    """The upload cannot be imported as it is; ``code`` picks the message (fr/nl/en)."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def too_many_rows() -> UnreadableWorkbook:
    return UnreadableWorkbook("sheet.too_many_rows", max=str(MAX_ROWS))


@dataclass
class SheetRows:
    """The data sheet: its header row and an iterator over the rows below it."""

    sheet_name: str
    header_row: int  # Excel row number of the header
    headers: list[str]
    rows: Iterator[tuple[int, Sequence[Any]]]  # (Excel row number, values from the first column)
    unreadable_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, 0-based column)
    warnings: list[tuple[str, dict[str, str]]] = field(default_factory=list)
