"""The import template: what the accountant downloads, and that it reads back as written."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.adapters.xlsx_template import set_text, write_error_report, write_template
from portal_importer.domain.assessment import assess
from portal_importer.domain.columns import BY_KEY, CATALOGUE
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row, fill_template
from portal_importer.service.engine import check_sheet


def _validate(data: bytes, language: str = "fr") -> dict[str, object]:
    checked = check_sheet(read_workbook(data), offline_context())
    return assess(checked.facts, checked.rows, availability=None).render(language)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_template_has_one_header_per_column_in_the_chosen_language(language: str) -> None:
    workbook = load_workbook(io.BytesIO(write_template(language, groups=["Everyone", "Gent"])))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [c.header(language) + (" *" if c.required else "") for c in CATALOGUE]
    assert sheet.freeze_panes == "A2"
    assert workbook.worksheets[1].title in {"Instructions", "Instructies"}
    assert workbook.worksheets[2].sheet_state == "hidden"  # the drop-down lists


def test_drop_downs_cover_the_enumerations_yes_no_and_the_offices_groups() -> None:
    workbook = load_workbook(io.BytesIO(write_template("fr", groups=["Everyone", "Liège"])))
    sheet = workbook.worksheets[0]
    listed = {dv.formula1 for dv in sheet.data_validations.dataValidation}
    for key in (
        "company.subscription_mode",
        "company.vat_frequency",
        "user.language",
        "group_id",
        "invite",
        "company.coda_plus",
    ):
        assert "list_" + key.replace(".", "_") in listed
    lists = workbook.worksheets[2]
    group_column = [c.key for c in CATALOGUE].index("group_id") + 1
    assert [lists.cell(row=r, column=group_column).value for r in (1, 2)] == ["Everyone", "Liège"]
    name = workbook.defined_names["list_company_vat_frequency"]
    assert "$1:$" in name.attr_text


def test_the_connection_column_offers_the_office_s_connections() -> None:
    data = write_template("nl", groups=["Everyone"], connections=["Adsolut server", "Kantoor"])
    workbook = load_workbook(io.BytesIO(data))
    listed = {dv.formula1 for dv in workbook.worksheets[0].data_validations.dataValidation}
    assert "list_integration_target_connection" in listed
    column = [c.key for c in CATALOGUE].index("integration.target.connection") + 1
    lists = workbook.worksheets[2]
    assert [lists.cell(row=r, column=column).value for r in (1, 2)] == ["Adsolut server", "Kantoor"]
    instructions = [[c.value for c in row] for row in workbook.worksheets[1].iter_rows()]
    assert any(row[3] == "Adsolut server, Kantoor" for row in instructions)
    # None known: a free text column (a drop-down would refuse every name)
    bare = load_workbook(io.BytesIO(write_template("nl"))).worksheets[0]
    assert "list_integration_target_connection" not in {
        dv.formula1 for dv in bare.data_validations.dataValidation
    }


def test_vat_phone_and_iban_columns_are_formatted_as_text() -> None:
    sheet = load_workbook(io.BytesIO(write_template("fr"))).worksheets[0]
    for key in ("company.vat_number", "user.mobile_phone", "bank_accounts.0"):
        letter = sheet.cell(row=1, column=[c.key for c in CATALOGUE].index(key) + 1).column_letter
        assert sheet.column_dimensions[letter].number_format == "@"
        assert sheet.column_dimensions[letter].width == BY_KEY[key].width


def test_the_example_row_is_recognised_and_skipped() -> None:
    report = _validate(write_template("nl"))
    assert report["rows"] == 0
    assert any(w["code"] == "row.example_skipped" and w["row"] == 2 for w in report["warnings"])


@pytest.mark.parametrize(("written", "uploaded_by"), [("fr", "fr"), ("nl", "fr"), ("en", "nl")])
def test_a_filled_template_in_any_language_is_valid(written: str, uploaded_by: str) -> None:
    data = fill_template([client_row(n, language=written) for n in range(1, 501)], written)
    report = _validate(data, uploaded_by)
    assert report["errors"] == []
    assert report["valid"] is True
    assert report["rows"] == 500


def test_values_that_could_run_as_formulas_are_written_as_text() -> None:
    from openpyxl import Workbook

    sheet = Workbook().worksheets[0]
    for row, value in enumerate(["=1+1", "+32 478", "-2", "@SUM(A1)", "plain"], start=1):
        set_text(sheet.cell(row=row, column=1), value)
    cells = [sheet.cell(row=r, column=1) for r in range(1, 6)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.quotePrefix for c in cells] == [True, True, True, True, False]


def test_written_spreadsheets_hold_no_formula() -> None:
    hostile = {
        "valid": False,
        "errors": [{"row": 3, "column": '=HYPERLINK("x")', "code": "c", "message": "@cmd"}],
        "warnings": [{"row": None, "column": "+A1", "code": "-1", "message": "=1"}],
    }
    for data in (
        write_template("fr", groups=["=cmd|' /C calc'!A0"]),
        write_error_report(hostile, "en"),
    ):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in archive.read(name), name
    report = load_workbook(io.BytesIO(write_error_report(hostile, "en"))).worksheets[0]
    assert report["B2"].value == '=HYPERLINK("x")'
    assert report["B2"].data_type == "s"
    assert report["B2"].quotePrefix
