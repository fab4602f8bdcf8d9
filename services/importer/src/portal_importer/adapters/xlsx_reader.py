"""Reading an uploaded workbook safely and fast: the package checks first (xlsx_package), then
python-calamine (Rust; about 13 times openpyxl's read-only speed) reads cached cell values only —
formulas are never evaluated. A formula cell without a cached value is found in the sheet XML
(defusedxml iterparse, only when the sheet holds formulas at all) and reported for that cell.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from portal_importer.adapters.xlsx_package import (
    MAIN_NS,
    PackageScan,
    ReadLimits,
    SheetEntry,
    column_index,
    inspect_package,
)
from portal_importer.domain.rows import header_score
from portal_importer.domain.sheet import SheetRows, UnreadableWorkbook
from portal_importer.domain.text import cell_text

HEADER_SEARCH_ROWS = 20
MIN_HEADER_SCORE = 2


def read_workbook(source: Path | bytes, limits: ReadLimits | None = None) -> SheetRows | None:
    """The sheet holding client rows, or ``None`` when no sheet has a recognisable header row.

    Raises :class:`UnreadableWorkbook` for anything that is not a sound .xlsx.
    """
    limits = limits or ReadLimits()
    package = inspect_package(source, limits)
    try:
        workbook = (
            python_calamine.CalamineWorkbook.from_path(str(source))
            if isinstance(source, Path)
            else python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        )
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbook("file.encrypted") from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise UnreadableWorkbook("file.corrupt") from exc
    for entry in package.sheets:
        if not entry.visible:
            continue
        found = _data_sheet(workbook, entry)
        if found is not None:
            return _with_checks(found, entry, package, source)
    return None


def _data_sheet(workbook: Any, entry: SheetEntry) -> SheetRows | None:
    try:
        sheet = workbook.get_sheet_by_name(entry.name)
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbook("file.encrypted") from exc
    except (python_calamine.CalamineError, ValueError) as exc:
        raise UnreadableWorkbook("file.corrupt") from exc
    start_row, start_col = sheet.start or (0, 0)
    rows = sheet.iter_rows()
    seen: list[tuple[int, list[Any]]] = []
    for offset, values in enumerate(rows):
        seen.append((start_row + offset + 1, values))
        if offset + 1 >= HEADER_SEARCH_ROWS:
            break
    best = max(
        ((header_score(_headers(values, start_col)), i) for i, (_, values) in enumerate(seen)),
        default=(0, 0),
    )
    if best[0] < MIN_HEADER_SCORE:
        return None
    header_at = best[1]
    header_row, header_values = seen[header_at]

    def remaining() -> Iterator[tuple[int, Sequence[Any]]]:
        for number, values in seen[header_at + 1 :]:
            yield number, _pad(values, start_col)
        number = seen[-1][0]
        for values in rows:
            number += 1
            yield number, _pad(values, start_col)

    return SheetRows(entry.name, header_row, _headers(header_values, start_col), remaining())


def _pad(values: list[Any], start_col: int) -> Sequence[Any]:
    # calamine's rows begin at the first used column; the column map counts from column A.
    return [None] * start_col + values if start_col else values


def _headers(values: list[Any], start_col: int) -> list[str]:
    return [cell_text(v) for v in _pad(values, start_col)]


def _with_checks(
    found: SheetRows, entry: SheetEntry, package: PackageScan, source: Path | bytes
) -> SheetRows:
    scan = package.scans.get(entry.part)
    if scan is None:
        return found
    if scan.claimed and _claims_more(scan.claimed, scan.max_row, scan.max_column):
        found.warnings.append(("sheet.dimension_ignored", {"claimed": scan.claimed}))
    if scan.has_formulas:
        found.unreadable_cells = formulas_without_value(source, entry.part)
    return found


def _claims_more(claimed: str, max_row: int, max_column: int) -> bool:
    end = claimed.split(":")[-1]
    letters = "".join(ch for ch in end if ch.isalpha())
    digits = "".join(ch for ch in end if ch.isdigit())
    return int(digits or 0) > max(max_row, 1) + 1000 or column_index(letters) > max_column + 100


def formulas_without_value(source: Path | bytes, part: str) -> set[tuple[int, int]]:
    """Cells of ``part`` holding a formula but no cached value: (Excel row, 0-based column)."""
    cell_tag, row_tag = f"{{{MAIN_NS}}}c", f"{{{MAIN_NS}}}row"
    f_tag, v_tag, is_tag = f"{{{MAIN_NS}}}f", f"{{{MAIN_NS}}}v", f"{{{MAIN_NS}}}is"
    found: set[tuple[int, int]] = set()
    row_number, column = 0, 0
    archive_source = source if isinstance(source, Path) else io.BytesIO(source)
    try:
        with zipfile.ZipFile(archive_source) as archive, archive.open(part) as stream:
            for event, element in SafeET.iterparse(
                stream, events=("start", "end"), forbid_dtd=True
            ):
                if event == "start":
                    if element.tag == row_tag:
                        row_number = int(element.get("r") or row_number + 1)
                        column = 0
                    continue
                if element.tag == cell_tag:
                    ref = element.get("r")
                    column = column_index(ref.rstrip("0123456789")) if ref else column + 1
                    formula = element.find(f_tag)
                    if formula is not None and not _has_cached_value(element, v_tag, is_tag):
                        found.add((row_number, column - 1))
                    element.clear()
                elif element.tag == row_tag:
                    element.clear()
    except DefusedXmlException as exc:
        raise UnreadableWorkbook("file.xml_entities") from exc
    except (ParseError, zipfile.BadZipFile, KeyError) as exc:
        raise UnreadableWorkbook("file.corrupt") from exc
    return found


def _has_cached_value(cell: Any, v_tag: str, is_tag: str) -> bool:
    if cell.find(is_tag) is not None:
        return True
    value = cell.find(v_tag)
    if value is None:
        return False
    # An empty cached string is a real result only for string formulas (t="str").
    return bool(value.text) or cell.get("t") == "str"
