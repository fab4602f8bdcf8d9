"""Reading the KBO extract's values and what the KBO's answer means for a VAT check."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_clients.domain.kbo import (
    Enterprise,
    ExtractMeta,
    ExtractOutOfOrder,
    ExtractType,
    KboFormatError,
    answer_for,
    deleted_number,
    enterprise_from_row,
    enterprise_number,
    kbo_date,
    may_apply,
    meta_from_rows,
)
from portal_clients.domain.vat import (
    RefusalReason,
    RegisterAnswer,
    RegisterVerdict,
    with_second_opinion,
)

ROW = {
    "EnterpriseNumber": "0403.170.701",
    "Status": "AC",
    "JuridicalSituation": "000",
    "TypeOfEnterprise": "2",
    "JuridicalForm": "014",
    "JuridicalFormCAC": "",
    "StartDate": "09-08-1960",
}


def _enterprise(**changes: str) -> Enterprise:
    return enterprise_from_row({**ROW, **changes})


def test_a_row_reads_into_an_enterprise() -> None:
    e = _enterprise()
    assert e.number == "0403170701"
    assert (e.status, e.juridical_situation, e.type_of_enterprise) == ("AC", "000", "2")
    assert e.juridical_form == "014"
    assert e.start_date == date(1960, 8, 9)
    assert _enterprise(JuridicalForm="", StartDate="").juridical_form is None


@pytest.mark.parametrize("text", ["403.170.701", "0403-170-701", "BE0403170701", "", "04031707011"])
def test_a_malformed_number_is_refused(text: str) -> None:
    with pytest.raises(KboFormatError):
        enterprise_number(text)


@pytest.mark.parametrize("text", ["1960-08-09", "31-02-2020", "9-8-1960"])
def test_a_malformed_date_is_refused(text: str) -> None:
    with pytest.raises(KboFormatError):
        kbo_date(text)


def test_the_delete_file_names_its_column_either_way() -> None:
    assert deleted_number({"EnterpriseNumber": "0202.962.701"}) == "0202962701"
    assert deleted_number({"EntityNumber": "0202.962.701"}) == "0202962701"
    with pytest.raises(KboFormatError):
        deleted_number({"Number": "0202.962.701"})


def test_meta_reads_number_type_and_snapshot() -> None:
    rows = [
        {"Variable": "SnapshotDate", "Value": "05-10-2025"},
        {"Variable": "ExtractTimestamp", "Value": "05-10-2025 03:12:44"},
        {"Variable": "ExtractType", "Value": "full"},
        {"Variable": "ExtractNumber", "Value": "0140"},
        {"Variable": "Version", "Value": "1.0.0"},
    ]
    meta = meta_from_rows(rows)
    assert meta == ExtractMeta(140, ExtractType.FULL, date(2025, 10, 5), "05-10-2025 03:12:44")
    with pytest.raises(KboFormatError):
        meta_from_rows(rows[:2])


def _meta(number: int, kind: ExtractType) -> ExtractMeta:
    return ExtractMeta(number, kind, date(2025, 10, 5), "")


def test_updates_apply_in_order_on_a_full_extract() -> None:
    full, update = ExtractType.FULL, ExtractType.UPDATE
    may_apply(_meta(140, full), None)
    may_apply(_meta(141, update), _meta(140, full))
    may_apply(_meta(150, full), _meta(141, update))  # a newer full replaces everything
    may_apply(_meta(141, full), _meta(141, update))  # the same picture again
    with pytest.raises(ExtractOutOfOrder, match="needs a full extract"):
        may_apply(_meta(141, update), None)
    with pytest.raises(ExtractOutOfOrder, match="142 is expected"):
        may_apply(_meta(143, update), _meta(141, update))
    with pytest.raises(ExtractOutOfOrder, match="not the next one"):
        may_apply(_meta(141, update), _meta(141, update))  # twice
    with pytest.raises(ExtractOutOfOrder, match="older"):
        may_apply(_meta(139, full), _meta(140, full))
    with pytest.raises(ExtractOutOfOrder, match="interrupted"):
        may_apply(_meta(142, update), _meta(141, update), unfinished=_meta(150, full))
    may_apply(_meta(150, full), _meta(141, update), unfinished=_meta(150, full))
    may_apply(_meta(151, full), _meta(141, update), unfinished=_meta(142, update))  # replaced
    with pytest.raises(ExtractOutOfOrder, match="interrupted"):
        may_apply(_meta(149, full), _meta(141, update), unfinished=_meta(150, full))


def test_an_active_enterprise_in_a_normal_situation_is_valid() -> None:
    assert answer_for(_enterprise(), extract_loaded=True).verdict is RegisterVerdict.VALID
    person = _enterprise(TypeOfEnterprise="1", JuridicalForm="")
    assert answer_for(person, extract_loaded=True).verdict is RegisterVerdict.VALID


def test_a_situation_not_listed_as_stopped_does_not_refuse() -> None:
    answer = answer_for(_enterprise(JuridicalSituation="002"), extract_loaded=True)
    assert answer.verdict is RegisterVerdict.VALID
    assert answer.detail == "juridical situation 002"


def test_a_stopped_enterprise_is_refused_with_its_reason() -> None:
    answer = answer_for(_enterprise(JuridicalSituation="012"), extract_loaded=True)
    assert answer.verdict is RegisterVerdict.INVALID
    assert answer.reason == RefusalReason.STOPPED
    assert answer.detail == "stopped (juridical situation 012: bankruptcy)"
    inactive = answer_for(_enterprise(Status="ST"), extract_loaded=True)
    assert (inactive.verdict, inactive.reason) == (
        RegisterVerdict.INVALID,
        RefusalReason.NOT_ACTIVE,
    )


def test_not_found_is_invalid_only_once_an_extract_is_loaded() -> None:
    loaded = answer_for(None, extract_loaded=True)
    assert (loaded.verdict, loaded.reason, loaded.detail) == (
        RegisterVerdict.INVALID,
        RefusalReason.NOT_FOUND,
        "not in the KBO",
    )
    assert answer_for(None, extract_loaded=False).verdict is RegisterVerdict.UNAVAILABLE


def test_a_second_register_may_only_turn_unknown_into_a_yes() -> None:
    not_found = answer_for(None, extract_loaded=True)
    valid = RegisterAnswer(RegisterVerdict.VALID, name="X NV")
    silent = RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="http 503")
    no = RegisterAnswer(RegisterVerdict.INVALID)
    assert with_second_opinion(not_found, valid) == valid
    assert with_second_opinion(not_found, no) == not_found
    pending = with_second_opinion(not_found, silent)
    assert pending.verdict is RegisterVerdict.UNAVAILABLE
    assert pending.detail == "not in the KBO; http 503"


# --- property tests: what the publisher can write, the reader reads back ------------------------

_ten_digits = st.integers(min_value=0, max_value=9_999_999_999).map(lambda n: f"{n:010d}")


@given(_ten_digits, st.booleans())
def test_any_number_with_or_without_dots_reads_as_its_ten_digits(digits: str, dots: bool) -> None:
    text = f"{digits[:4]}.{digits[4:7]}.{digits[7:]}" if dots else digits
    assert enterprise_number(f"  {text} ") == digits


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2999, 12, 31)))
def test_any_date_written_dd_mm_yyyy_reads_back(day: date) -> None:
    assert kbo_date(day.strftime("%d-%m-%Y")) == day


@given(
    _ten_digits,
    st.sampled_from(["000", "012", "014", "100", "002", "091"]),
    st.sampled_from(["AC", "ST"]),
    st.sampled_from(["1", "2"]),
)
def test_every_read_enterprise_gets_exactly_one_verdict(
    digits: str, situation: str, status: str, kind: str
) -> None:
    row = {**ROW, "EnterpriseNumber": digits, "JuridicalSituation": situation}
    answer = answer_for(
        enterprise_from_row({**row, "Status": status, "TypeOfEnterprise": kind}),
        extract_loaded=True,
    )
    refused = status != "AC" or situation in {"012", "014", "100"}
    assert (answer.verdict is RegisterVerdict.INVALID) is refused
    assert answer.verdict is not RegisterVerdict.UNAVAILABLE  # a found enterprise is known
