"""Spreadsheets the importer writes with openpyxl: the import template and the error report.

Every text a person could have typed is written as text, never as a formula: a value starting
with = + - @ is stored as a string cell with Excel's quote prefix, so opening the file cannot run
it (formula injection).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from portal_importer.domain.columns import CATALOGUE, YES_NO, Column, Kind

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
VALIDATED_ROWS = 5000  # drop-downs and text format reach this far down

_SHEET_NAMES = {
    "clients": {"fr": "Clients", "nl": "Klanten", "en": "Clients"},
    "instructions": {"fr": "Instructions", "nl": "Instructies", "en": "Instructions"},
    "lists": {"fr": "Listes", "nl": "Lijsten", "en": "Lists"},
}
_INSTRUCTION_HEADERS = {
    "fr": ("Colonne", "Obligatoire", "Explication", "Valeurs possibles", "Exemple"),
    "nl": ("Kolom", "Verplicht", "Uitleg", "Mogelijke waarden", "Voorbeeld"),
    "en": ("Column", "Required", "Explanation", "Allowed values", "Example"),
}
_INTRO = {
    "fr": "Une ligne par client, à partir de la ligne 3 (la ligne 2 est un exemple, ignorée à l'importation). Rien n'est importé tant qu'une ligne contient une erreur.",
    "nl": "Eén rij per klant, vanaf rij 3 (rij 2 is een voorbeeld en wordt bij de import genegeerd). Er wordt niets geïmporteerd zolang een rij een fout bevat.",
    "en": "One row per client, from row 3 (row 2 is an example, skipped on import). Nothing is imported while any row has an error.",
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def set_text(cell: Cell, value: Any) -> None:
    """Write ``value`` so a spreadsheet shows it and never evaluates it."""
    if value is None:
        return
    text = value if isinstance(value, str) else None
    if text is None:
        cell.value = value
        return
    cell.value = text
    cell.data_type = "s"  # openpyxl would take "=…" for a formula
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def write_template(
    language: str,
    groups: Sequence[str] = (),
    connections: Sequence[str] = (),
    *,
    columns: Sequence[Column] = CATALOGUE,
) -> bytes:
    """The import template in ``language``; ``groups`` are the office's group names and
    ``connections`` its sFTP and agent connections (a drop-down when there are any)."""
    offered = Offered(groups, connections)
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = _SHEET_NAMES["clients"][language]
    lists = workbook.create_sheet(_SHEET_NAMES["lists"][language])
    lists.sheet_state = "hidden"
    _write_header_and_example(sheet, columns, language)
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = column.width
        if column.as_text:
            sheet.column_dimensions[letter].number_format = "@"
        values = _choices(column, language, offered)
        if values:
            source = _write_list(workbook, lists, position, column.key, values)
            validation = DataValidation(type="list", formula1=source, allow_blank=True)
            validation.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    _write_instructions(
        workbook.create_sheet(_SHEET_NAMES["instructions"][language], 1), columns, language, offered
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_header_and_example(sheet: Worksheet, columns: Sequence[Column], language: str) -> None:
    for position, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=position)
        set_text(cell, column.header(language) + (" *" if column.required else ""))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        example = sheet.cell(row=2, column=position)
        set_text(example, _example(column, language) or None)
        example.font = _EXAMPLE_FONT
        if column.as_text:
            example.number_format = "@"


def _example(column: Column, language: str) -> str:
    if not column.example:
        return ""
    return column.label(column.example, language) if column.choices else column.example


@dataclass(frozen=True)
class Offered:
    """What the office has for the columns whose choices are the office's own."""

    groups: Sequence[str]
    connections: Sequence[str]


CONNECTION = "integration.target.connection"


def _choices(column: Column, language: str, offered: Offered) -> list[str]:
    if column.kind is Kind.GROUP:
        return list(offered.groups)
    if column.key == CONNECTION:
        return list(offered.connections)
    return [c.labels.get(language) or c.labels["en"] for c in column.choices]


def _write_list(
    workbook: Workbook, lists: Worksheet, position: int, key: str, values: Sequence[str]
) -> str:
    letter = get_column_letter(position)
    for row, value in enumerate(values, start=1):
        set_text(lists.cell(row=row, column=position), value)
    # A named range survives the hidden sheet being renamed and reads better in Excel.
    name = "list_" + key.replace(".", "_")
    reference = f"'{lists.title}'!${letter}$1:${letter}${len(values)}"
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)
    return name


def _write_instructions(
    sheet: Worksheet, columns: Sequence[Column], language: str, offered: Offered
) -> None:
    set_text(sheet.cell(row=1, column=1), _INTRO[language])
    sheet.cell(row=1, column=1).font = Font(bold=True)
    for position, title in enumerate(_INSTRUCTION_HEADERS[language], start=1):
        cell = sheet.cell(row=3, column=position)
        set_text(cell, title)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    yes, no = (c.labels[language] for c in YES_NO)
    for row, column in enumerate(columns, start=4):
        values = ", ".join(_choices(column, language, offered))
        for position, value in enumerate(
            (
                column.header(language),
                yes if column.required else no,
                column.help[language],
                values,
                _example(column, language),
            ),
            start=1,
        ):
            cell = sheet.cell(row=row, column=position)
            set_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (34, 12, 70, 50, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A4"


def write_error_report(rendered: Mapping[str, Any], language: str) -> bytes:
    """The report's errors and warnings as a workbook (row, column, code, message)."""
    titles = {
        "fr": ("Ligne", "Colonne", "Code", "Message", "Gravité"),
        "nl": ("Rij", "Kolom", "Code", "Bericht", "Ernst"),
        "en": ("Row", "Column", "Code", "Message", "Severity"),
    }[language]
    severity = {
        "fr": ("Erreur", "Avertissement"),
        "nl": ("Fout", "Waarschuwing"),
        "en": ("Error", "Warning"),
    }[language]
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    for position, title in enumerate(titles, start=1):
        set_text(sheet.cell(row=1, column=position), title)
        sheet.cell(row=1, column=position).font = Font(bold=True)
    row = 2
    for kind, label in (("errors", severity[0]), ("warnings", severity[1])):
        for problem in rendered.get(kind, []):
            values = (problem["row"], problem["column"], problem["code"], problem["message"], label)
            for position, value in enumerate(values, start=1):
                set_text(sheet.cell(row=row, column=position), value)
            row += 1
    for letter, width in zip("ABCDE", (8, 30, 30, 90, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
