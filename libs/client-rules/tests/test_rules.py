"""The client rules, as the accountant meets them (no I/O)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from portal_client_rules import ClientRulesError, OfficeRules, check_client, messages
from portal_contracts.values import TransferMethod

TODAY = date(2026, 11, 29)
OFFICE = OfficeRules(
    enabled_transfer_methods=frozenset({TransferMethod.EMAIL, TransferMethod.SFTP}),
    group_ids=frozenset({"everyone", "ghent"}),
    today=TODAY,
)


def valid_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "company": {
            "vat_number": "BE 0403.170.701",
            "name": "Boulangerie Peeters",
            "vat_frequency": "quarterly",
            "internal_reference": "C-001",
            "subscription_mode": "full_follow_up",
        },
        "user": {
            "first_name": "An",
            "last_name": "Peeters",
            "email": " Info+Shop2@GMail.com ",
            "mobile_phone": "0470 12 34 56",
            "language": "nl",
        },
        "bank_accounts": ["be68 5390 0754 7034"],
        "group_id": "ghent",
        "integration": {
            "target": {
                "kind": "email",
                "purchase": "aankoop@winbooks.be",
                "sales": "verkoop@winbooks.be",
            },
            "accounting_software": "winbooks",
        },
        "sales_ledger_accounts": [{"code": "700000", "label": "Ventes"}],
    }
    raw.update(overrides)
    return raw


def codes(raw: dict[str, Any], office: OfficeRules = OFFICE) -> dict[str, str]:
    with pytest.raises(ClientRulesError) as caught:
        check_client(raw, office)
    return {v.field: v.code for v in caught.value.violations}


def test_a_valid_client_is_normalised() -> None:
    client = check_client(valid_raw(), OFFICE)
    assert client.company.vat_number == "BE0403170701"
    assert client.user.email == "info+shop2@gmail.com"  # +tag and dots kept
    assert client.user.mobile_phone == "+32470123456"
    assert client.bank_accounts == ["BE68539007547034"]
    assert client.sales_ledger_accounts[0].default is True  # a single account is the default


def test_every_broken_rule_is_reported_at_once() -> None:
    raw = valid_raw()
    raw["company"]["vat_number"] = "BE0403170702"
    raw["user"]["email"] = "not-an-email"
    raw["user"]["mobile_phone"] = "02 512 34 56"  # a Brussels landline
    raw["company"]["subscription_mode"] = "premium"
    assert codes(raw) == {
        "company.vat_number": "vat.checksum",
        "user.email": "email.syntax",
        "user.mobile_phone": "phone.not_mobile",
        "company.subscription_mode": "field.choice",
    }


def test_accountant_managed_needs_a_bank_account() -> None:
    raw = valid_raw(bank_accounts=[])
    raw["company"]["subscription_mode"] = "accountant_managed"
    assert codes(raw) == {"bank_accounts": "bank_accounts.required_for_managed"}


def test_transfer_method_must_be_enabled_in_the_office_settings() -> None:
    raw = valid_raw(
        integration={"target": {"kind": "onedrive", "folder": "x"}, "accounting_software": "yuki"}
    )
    assert codes(raw) == {"integration.target.kind": "transfer_method.not_enabled"}


@pytest.mark.parametrize(
    ("folder", "code"),
    [
        ("../etc", "folder.traversal"),
        ("/abs", "folder.absolute"),
        ("C:\\x", "folder.absolute"),
        ("a\x00b", "folder.control_character"),
        ("a/../../b", "folder.traversal"),
    ],
)
def test_sftp_folder_must_be_a_safe_relative_path(folder: str, code: str) -> None:
    raw = valid_raw(
        integration={
            "target": {"kind": "sftp", "connection": "server", "folder": folder},
            "accounting_software": "adsolut",
        }
    )
    assert codes(raw) == {"integration.target.folder": code}


def _sftp(connection: str) -> dict[str, Any]:
    return valid_raw(
        integration={
            "target": {"kind": "sftp", "connection": connection, "folder": "peeters"},
            "accounting_software": "adsolut",
        }
    )


def test_an_sftp_target_names_one_of_the_office_s_sftp_connections() -> None:
    office = OfficeRules(
        OFFICE.enabled_transfer_methods,
        OFFICE.group_ids,
        TODAY,
        connections={"Adsolut server": TransferMethod.SFTP, "Kantoor": TransferMethod.AGENT},
    )
    # As the accountant sees it: case and spacing aside; the stored name is what was typed.
    assert check_client(_sftp(" adsolut  SERVER"), office).integration.target.connection
    with pytest.raises(ClientRulesError) as caught:
        check_client(_sftp("Adsolut srv"), office)
    [unknown] = caught.value.violations
    assert (unknown.field, unknown.code) == ("integration.target.connection", "connection.unknown")
    assert messages.message(unknown.code, "fr", unknown.params) == (
        "Aucune connexion « Adsolut srv » n'existe dans vos paramètres ; "
        "choisissez-en une (Adsolut server) ou créez-la d'abord."
    )
    with pytest.raises(ClientRulesError) as caught:
        check_client(_sftp("Kantoor"), office)
    [wrong] = caught.value.violations
    assert wrong.code == "connection.wrong_kind"
    assert "agent" in messages.message(wrong.code, "en", wrong.params)


def test_connection_names_not_checked_before_the_office_s_connections_are_known() -> None:
    assert check_client(_sftp("anything"), OFFICE).integration.target.connection == "anything"


def test_unknown_group() -> None:
    assert codes(valid_raw(group_id="antwerp")) == {"group_id": "group.unknown"}


def test_group_not_checked_when_office_groups_unknown() -> None:
    office = OfficeRules(OFFICE.enabled_transfer_methods, None, TODAY)
    assert check_client(valid_raw(group_id="antwerp"), office).group_id == "antwerp"


def test_two_ledger_accounts_need_exactly_one_default() -> None:
    raw = valid_raw(
        sales_ledger_accounts=[{"code": "700000", "label": "A"}, {"code": "700100", "label": "B"}]
    )
    assert codes(raw) == {"sales_ledger_accounts": "ledger.one_default"}


def test_follow_from_at_most_90_days_back() -> None:
    ok = valid_raw(task_list={"follow_from": (TODAY - timedelta(days=90)).isoformat()})
    assert check_client(ok, OFFICE).task_list.follow_from == TODAY - timedelta(days=90)
    old = valid_raw(task_list={"follow_from": (TODAY - timedelta(days=91)).isoformat()})
    assert codes(old) == {"task_list.follow_from": "task_list.follow_from_too_old"}


def test_delayed_timing_needs_days() -> None:
    raw = valid_raw()
    raw["integration"]["timing"] = {"when": "delayed"}
    assert codes(raw) == {"integration.timing.delay_days": "timing.delay_days"}


def test_header_injection_in_names_is_refused() -> None:
    raw = valid_raw()
    raw["user"]["first_name"] = "An\r\nBcc: victim@example.com"
    assert codes(raw) == {"user.first_name": "text.control_character"}


def test_numbers_typed_by_excel_are_accepted() -> None:
    raw = valid_raw()
    raw["company"]["vat_number"] = 403170701.0  # leading zero lost by Excel
    raw["user"]["mobile_phone"] = 32470123456.0
    client = check_client(raw, OFFICE)
    assert (client.company.vat_number, client.user.mobile_phone) == ("BE0403170701", "+32470123456")


@pytest.mark.parametrize("code", sorted(messages.CATALOGUE))
def test_every_message_exists_in_the_three_languages(code: str) -> None:
    for lang in messages.LANGUAGES:
        assert messages.message(
            code, lang, {"choices": "a", "method": "m", "max": "1", "days": "90"}
        )


def test_every_code_the_rules_raise_has_a_message() -> None:
    import pathlib
    import re

    import portal_client_rules
    from portal_contracts import values

    sources = [
        *pathlib.Path(portal_client_rules.__file__).parent.glob("*.py"),
        pathlib.Path(values.__file__),
    ]
    raised = {
        code
        for source in sources
        for code in re.findall(
            r'(?:InvalidValue\(\s*|\.add\([^,]+,\s*)"([a-z_]+\.[a-z_]+)"', source.read_text()
        )
    }
    prefixed = {
        f"{p}.{k}" for p in ("text", "folder") for k in ("control_character", "invisible_character")
    }
    assert len(raised) > 40  # the pattern still finds the codes
    assert raised | prefixed <= set(messages.CATALOGUE)


@pytest.mark.parametrize(
    ("value", "stored"), [("true", "true"), ("1e308", "1e308"), (1001, "1001")]
)
def test_a_value_typed_as_text_stays_text(value: object, stored: str) -> None:
    raw = valid_raw()
    raw["company"]["name"] = value
    assert check_client(raw, OFFICE).company.name == stored


@pytest.mark.parametrize("value", [True, False, 1e308, 12.5])
def test_a_json_boolean_or_decimal_is_not_taken_for_text(value: object) -> None:
    # JSON true became the company "True" and 1e308 "1e+308" (issue 16 point 13).
    raw = valid_raw()
    raw["company"]["name"] = value
    assert codes(raw) == {"company.name": "text.not_text"}
