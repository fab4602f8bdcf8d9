"""How rows are read and checked: headers in any language, any order, numbers Excel typed, empty
rows, duplicates inside the file, the platform's answer, and problems back on the file's columns."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portal_client_rules import OfficeRules
from portal_contracts.values import TransferMethod
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.domain.assessment import assess
from portal_importer.domain.columns import BY_KEY, CATALOGUE, HEADERS, column_for_path
from portal_importer.domain.rows import GroupNames
from portal_importer.domain.text import cell_text, match_key
from portal_importer.domain.validation import Availability, Holder, RowContext, check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row, plain_workbook
from portal_importer.service.engine import check_sheet, process_pool


def _report(
    headers: list[str],
    rows: list[list[Any]],
    availability: Availability | None = None,
    context: RowContext | None = None,
) -> dict[str, Any]:
    checked = check_sheet(
        read_workbook(plain_workbook(headers, rows)), context or offline_context()
    )
    return assess(checked.facts, checked.rows, availability).render("fr")


def test_every_spelling_names_one_column_only() -> None:
    seen: dict[str, str] = {}
    for column in CATALOGUE:
        for spelling in [*column.headers.values(), *column.aliases, column.key]:
            key = match_key(spelling)
            assert seen.setdefault(key, column.key) == column.key, spelling


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("NUMERO DE TVA", "company.vat_number"),
        ("  Numéro   de TVA * ", "company.vat_number"),
        ("btw-nummer", "company.vat_number"),
        ("Fréquence de soumission de la TVA", "company.vat_frequency"),
        ("e-mailadres", "user.email"),
        ("Mode d’abonnement", "company.subscription_mode"),
        ("company.vat_number", "company.vat_number"),
    ],
)
def test_headers_match_whatever_the_case_accents_or_language(written: str, key: str) -> None:
    column = HEADERS.find(written)
    assert column is not None
    assert column.key == key


def test_cells_are_trimmed_and_numbers_keep_their_digits() -> None:
    assert cell_text("  Dupont\u00a0") == "Dupont"
    assert cell_text(32478112233.0) == "32478112233"
    assert cell_text(403170701) == "403170701"
    assert cell_text(True) == "yes"
    assert cell_text(date(2026, 11, 1)) == "2026-11-01"


def test_numbers_excel_typed_as_numbers_are_accepted() -> None:
    row = client_row(5)
    row["company.vat_number"] = 403170701  # type: ignore[assignment]  # "0403.170.701" lost its zero
    row["user.mobile_phone"] = 32478112233  # type: ignore[assignment]
    row["bank_accounts.0"] = "BE68 5390 0754 7034"
    headers = [BY_KEY[k].header("fr") for k in row]
    report = _report(headers, [list(row.values())])
    assert report["errors"] == []
    assert report["valid"]


def test_a_text_column_typed_as_true_a_decimal_or_a_date_is_flagged_not_changed() -> None:
    """Issue 16 point 13: `true` became "yes" and `1e308` "1e+308" without a word."""
    rows = []
    for typed in (True, 1e308, date(2026, 1, 2)):
        row: dict[str, Any] = client_row(len(rows) + 7)
        row["company.name"] = typed
        rows.append(row)
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    report = _report(headers, [list(r.values()) for r in rows])
    assert not report["valid"]
    name = BY_KEY["company.name"].header("fr")
    assert [(e["column"], e["code"]) for e in report["errors"]] == [(name, "text.not_text")] * 3
    assert "Excel" in report["errors"][0]["message"]  # how to fix it: type ' or format as text


def test_column_order_does_not_matter_and_unknown_columns_are_warnings() -> None:
    row = client_row(1, language="en")
    keys = list(reversed(row))
    headers = [BY_KEY[k].header("en") for k in keys] + ["Notes"]
    report = _report(headers, [[row[k] for k in keys] + ["call back"]])
    assert report["valid"]
    assert [
        (w["column"], w["code"]) for w in report["warnings"] if w["code"] == "column.unknown"
    ] == [("Notes", "column.unknown")]


def test_empty_rows_are_ignored_and_row_numbers_stay_excel_numbers() -> None:
    row = client_row(1)
    bad = client_row(2) | {"user.email": "nope"}
    headers = [BY_KEY[k].header("fr") for k in row]
    report = _report(
        headers, [list(row.values()), [None] * len(row), ["  "] * len(row), list(bad.values())]
    )
    assert report["rows"] == 2
    assert [(e["row"], e["column"], e["code"]) for e in report["errors"]] == [
        (5, "Adresse e-mail", "email.syntax")
    ]


def test_a_missing_required_column_is_said_once() -> None:
    rows = [client_row(1), client_row(2)]
    for row in rows:
        del row["user.mobile_phone"]
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    report = _report(headers, [list(r.values()) for r in rows])
    codes = [(e["row"], e["column"], e["code"]) for e in report["errors"]]
    assert codes == [(None, "Numéro de téléphone mobile", "column.missing")]


def test_duplicates_inside_the_file_flag_every_occurrence() -> None:
    rows = [client_row(n) for n in (1, 2, 3)]
    rows[2]["user.email"] = rows[0]["user.email"].upper()
    rows[1]["company.vat_number"] = rows[0]["company.vat_number"]
    rows[1]["company.internal_reference"] = rows[0]["company.internal_reference"]
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    report = _report(headers, [list(r.values()) for r in rows])
    assert sorted((e["row"], e["code"]) for e in report["errors"]) == [
        (2, "email.duplicate_in_file"),
        (2, "vat.duplicate_in_file"),
        (3, "vat.duplicate_in_file"),
        (4, "email.duplicate_in_file"),
    ]


def test_the_same_vat_number_with_another_reference_is_fine() -> None:
    rows = [client_row(n) for n in (1, 2)]
    rows[1]["company.vat_number"] = rows[0]["company.vat_number"]
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    assert _report(headers, [list(r.values()) for r in rows])["valid"]


def test_emails_and_vat_numbers_the_platform_refuses() -> None:
    rows = [client_row(n) for n in (1, 2, 3)]
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    refused = Availability(
        {"client2@bureau-example.be": Holder.ELSEWHERE, "client3@bureau-example.be": Holder.OFFICE},
        {"BE0100000268": Holder.ELSEWHERE, "BE0100000169": Holder.OFFICE},
    )
    report = _report(headers, [list(r.values()) for r in rows], refused)
    assert report["uniqueness_checked"] is True
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (2, "vat.taken_in_office"),
        (3, "vat.unavailable"),
        (3, "email.unavailable"),
        (4, "email.taken_in_office"),
    ]


def test_groups_by_name_and_transfer_methods_follow_the_office() -> None:
    office = OfficeRules(
        frozenset({TransferMethod.EMAIL}), frozenset({"everyone", "g-liege"}), date.today()
    )
    context = RowContext(office, GroupNames.of({"g-liege": "Liège", "everyone": "Everyone"}))
    cells = dict(client_row(1).items())
    assert check_row(3, cells | {"group_id": "LIEGE"}, context).valid
    unknown = check_row(3, cells | {"group_id": "Namur"}, context)
    assert [(p.key, p.code) for p in unknown.problems] == [("group_id", "group.unknown")]
    sftp = check_row(
        3,
        cells | {"integration.target.kind": "FTPs/sFTP", "integration.target.folder": "../x"},
        context,
    )
    assert {p.code for p in sftp.problems} >= {"transfer_method.not_enabled", "folder.traversal"}


def test_rule_paths_map_back_to_columns() -> None:
    assert column_for_path("bank_accounts").key == "bank_accounts.0"  # type: ignore[union-attr]
    assert column_for_path("integration.target.folder").key == "integration.target.folder"  # type: ignore[union-attr]
    assert column_for_path("body") is None


def test_a_drop_down_choice_in_another_language_and_a_wrong_one() -> None:
    cells = client_row(1) | {"company.vat_frequency": "MAANDELIJKS", "user.language": "Engels"}
    assert check_row(3, cells, offline_context()).valid
    wrong = check_row(3, cells | {"company.vat_frequency": "weekly"}, offline_context())
    assert [(p.key, p.code) for p in wrong.problems] == [("company.vat_frequency", "field.choice")]


def test_the_process_pool_gives_the_same_report() -> None:
    rows = [client_row(n) for n in range(1, 2501)]
    rows[100]["user.email"] = "bad"
    headers = [BY_KEY[k].header("fr") for k in rows[0]]
    data = plain_workbook(headers, [list(r.values()) for r in rows])
    inline = check_sheet(read_workbook(data), offline_context())
    with process_pool(2) as pool:
        pooled = check_sheet(read_workbook(data), offline_context(), executor=pool)
    assert assess(inline.facts, inline.rows, None) == assess(pooled.facts, pooled.rows, None)
    assert [r.row for r in pooled.rows] == list(range(2, 2502))
