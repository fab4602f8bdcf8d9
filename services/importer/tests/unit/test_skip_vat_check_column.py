"""The template's "don't check the VAT number" column: its header in each language, read back
from a filled template, stored with the row, and carried to the clients service."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from portal_contracts.imports import ImportRow
from portal_importer.adapters.documents import row_from_document, row_to_document
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.adapters.xlsx_template import write_template
from portal_importer.domain.chunks import row_json
from portal_importer.domain.columns import BY_KEY, HEADERS
from portal_importer.domain.validation import check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row, fill_template
from portal_importer.service.engine import check_sheet

HEADERS_BY_LANGUAGE = {
    "fr": "Ne pas vérifier le numéro de TVA",
    "nl": "Btw-nummer niet controleren",
    "en": "Don't check the VAT number",
}


@pytest.mark.parametrize(("language", "header"), sorted(HEADERS_BY_LANGUAGE.items()))
def test_the_template_has_the_column_next_to_the_vat_number(language: str, header: str) -> None:
    sheet = load_workbook(io.BytesIO(write_template(language))).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[headers.index(header) - 1].startswith(
        BY_KEY["company.vat_number"].header(language)
    )
    found = HEADERS.find(header)
    assert found is not None
    assert found.key == "skip_vat_check"


def test_a_filled_template_carries_the_choice_to_the_clients_service() -> None:
    skip = BY_KEY["skip_vat_check"]
    rows = [
        client_row(1, language="nl") | {"skip_vat_check": skip.label("yes", "nl")},
        client_row(2, language="nl") | {"skip_vat_check": skip.label("no", "nl")},
        client_row(3, language="nl"),  # left empty: checked
    ]
    checked = check_sheet(read_workbook(fill_template(rows, "nl")), offline_context()).rows
    assert [(c.valid, c.skip_vat_check) for c in checked] == [
        (True, True),
        (True, False),
        (True, False),
    ]
    kept = [
        check_row(n, row, offline_context(), keep_client=True)
        for n, row in enumerate(rows, start=3)
    ]
    stored = [row_from_document(row_to_document("imp-1", "rows-1", r)) for r in kept]
    sent = [ImportRow.model_validate_json(row_json(r, date(2026, 12, 4))) for r in stored]
    assert [r.skip_vat_check for r in sent] == [True, False, False]


def test_anything_but_yes_or_no_is_a_problem_of_that_column() -> None:
    row = check_row(3, client_row(1) | {"skip_vat_check": "peut-être"}, offline_context())
    assert ("skip_vat_check", "field.boolean") in [(p.key, p.code) for p in row.problems]


def test_a_row_stored_before_the_column_existed_is_checked() -> None:
    doc = row_to_document("imp-1", "rows-1", check_row(3, client_row(1), offline_context()))
    del doc["skip_vat_check"]
    assert row_from_document(doc).skip_vat_check is False
