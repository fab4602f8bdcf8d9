"""EN 16931 arithmetic, exact to the cent, and the Belgian structured reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from portal_ubl.domain.model import (
    Address,
    AllowanceCharge,
    DocumentType,
    Invoice,
    Line,
    Party,
    VatCategory,
)
from portal_ubl.domain.rules import is_structured_reference, normalise_structured_reference
from portal_ubl.domain.totals import compute_totals, line_net, round2

PARTY = Party("P", Address("BE"), vat_number="BE0403170701")


def _line(
    qty: str, price: str, cat: VatCategory = VatCategory.STANDARD, rate: str = "21", **kw: object
) -> Line:
    return Line("1", "x", D(qty), "C62", D(price), cat, D(rate), **kw)  # type: ignore[arg-type]


def _invoice(*lines: Line, **kw: object) -> Invoice:
    return Invoice(DocumentType.INVOICE, "1", date(2026, 1, 1), PARTY, PARTY, lines, **kw)  # type: ignore[arg-type]


def test_round_half_up_not_bankers() -> None:
    assert round2(D("0.125")) == D("0.13")
    assert round2(D("2.675")) == D("2.68")
    assert round2(D("-0.125")) == D("-0.13")


def test_mix_of_belgian_rates_is_exact() -> None:
    invoice = _invoice(
        _line("3", "33.33"),
        _line("2", "12.345", rate="12"),
        _line("1", "7.5", rate="6"),
        _line("1", "10", VatCategory.ZERO, "0"),
    )
    t = compute_totals(invoice)
    assert t.line_nets == (D("99.99"), D("24.69"), D("7.50"), D("10.00"))
    by_rate = {(s.category.value, s.rate): (s.taxable, s.tax) for s in t.subtotals}
    assert by_rate == {
        ("S", D(21)): (D("99.99"), D("21.00")),
        ("S", D(12)): (D("24.69"), D("2.96")),
        ("S", D(6)): (D("7.50"), D("0.45")),
        ("Z", D(0)): (D("10.00"), D("0.00")),
    }
    assert (t.line_extension, t.tax_total, t.tax_inclusive, t.payable) == (
        D("142.18"),
        D("24.41"),
        D("166.59"),
        D("166.59"),
    )


def test_rates_written_differently_share_one_breakdown_row() -> None:
    t = compute_totals(_invoice(_line("1", "10", rate="21"), _line("1", "10", rate="21.00")))
    assert len(t.subtotals) == 1
    assert t.subtotals[0].tax == D("4.20")


def test_allowances_and_charges_at_both_levels() -> None:
    line = _line(
        "4",
        "25",
        allowances_charges=(
            AllowanceCharge(False, percent=D(10)),  # 10 % of 100.00
            AllowanceCharge(True, amount=D("2.50")),
        ),
    )
    assert line_net(line) == D("92.50")
    invoice = _invoice(
        line,
        allowances_charges=(
            AllowanceCharge(False, amount=D(5), vat_category=VatCategory.STANDARD, vat_rate=D(21)),
            AllowanceCharge(
                True, amount=D("7.5"), vat_category=VatCategory.STANDARD, vat_rate=D(21)
            ),
        ),
        prepaid_amount=D(50),
    )
    t = compute_totals(invoice)
    assert (t.allowance_total, t.charge_total, t.tax_exclusive) == (
        D("5.00"),
        D("7.50"),
        D("95.00"),
    )
    assert t.tax_total == D("19.95")
    assert t.tax_inclusive == D("114.95")
    assert t.payable == D("64.95")


def test_base_quantity_divides_the_price() -> None:
    assert line_net(_line("250", "1.20", base_quantity=D(100))) == D("3.00")


@given(st.integers(min_value=0, max_value=9_999_999_999))
def test_every_mod97_reference_is_accepted(number: int) -> None:
    digits = f"{number:010d}"
    check = int(digits) % 97 or 97
    raw = f"{digits}{check:02d}"
    formatted = normalise_structured_reference(raw)
    assert formatted is not None
    assert is_structured_reference(formatted)
    assert formatted == f"+++{raw[:3]}/{raw[3:7]}/{raw[7:]}+++"


@given(st.integers(min_value=0, max_value=9_999_999_999), st.integers(min_value=1, max_value=96))
def test_a_wrong_check_digit_is_refused(number: int, shift: int) -> None:
    digits = f"{number:010d}"
    wrong = ((int(digits) % 97 or 97) + shift - 1) % 97 + 1
    if wrong == (int(digits) % 97 or 97):
        return
    assert normalise_structured_reference(f"{digits}{wrong:02d}") is None
