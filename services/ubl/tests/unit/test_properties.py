"""Property tests: the parsers never fail other than with a clear rejection, and the totals
always satisfy the EN 16931 identities whatever the lines."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from portal_ubl.adapters.profiles.registry import get_profile
from portal_ubl.adapters.readers import read_ubl
from portal_ubl.adapters.ubl_writer import build_tree
from portal_ubl.adapters.validation import check_xsd
from portal_ubl.domain.errors import Problem, RejectedDocument
from portal_ubl.domain.model import (
    Address,
    AllowanceCharge,
    DocumentType,
    Invoice,
    Line,
    Party,
    VatCategory,
)
from portal_ubl.domain.totals import compute_totals
from portal_ubl.intake import parse_invoice_data
from portal_ubl.samples import sample_data

money = st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False)
quantity = st.decimals(min_value=-50, max_value=1_000, places=2, allow_nan=False)
rate = st.sampled_from([Decimal(21), Decimal(12), Decimal(6), Decimal("5.5")])

lines = st.lists(
    st.builds(
        lambda q, p, r, disc: Line(
            "1",
            "x",
            q,
            "C62",
            p,
            VatCategory.STANDARD,
            r,
            allowances_charges=(AllowanceCharge(False, percent=disc),) if disc else (),
        ),
        quantity,
        money,
        rate,
        st.one_of(st.none(), st.decimals(min_value=1, max_value=50, places=1)),
    ),
    min_size=1,
    max_size=30,
)
PARTY = Party("P", Address("BE"), vat_number="BE0403170701", enterprise_number="0403170701")


@given(
    lines,
    st.decimals(min_value=0, max_value=500, places=2),
    st.decimals(min_value=0, max_value=500, places=2),
)
def test_totals_identities_hold(items: list[Line], allowance: Decimal, charge: Decimal) -> None:
    invoice = Invoice(
        DocumentType.INVOICE,
        "1",
        date(2026, 1, 1),
        PARTY,
        PARTY,
        tuple(items),
        allowances_charges=(
            AllowanceCharge(False, amount=allowance, vat_rate=Decimal(21)),
            AllowanceCharge(True, amount=charge, vat_rate=Decimal(21)),
        ),
    )
    t = compute_totals(invoice)
    assert t.line_extension == sum(t.line_nets)
    assert t.tax_exclusive == t.line_extension - t.allowance_total + t.charge_total  # BR-CO-13
    assert t.tax_total == sum(s.tax for s in t.subtotals)  # BR-CO-14
    assert t.tax_inclusive == t.tax_exclusive + t.tax_total  # BR-CO-15
    assert t.payable == t.tax_inclusive - t.prepaid + t.rounding  # BR-CO-16
    assert sum(s.taxable for s in t.subtotals) == t.tax_exclusive
    for value in (t.line_extension, t.tax_total, t.payable, *t.line_nets):
        assert value == value.quantize(Decimal("0.01"))


@settings(max_examples=30, deadline=None)
@given(lines)
def test_any_invoice_we_build_follows_the_ubl_schema(items: list[Line]) -> None:
    invoice = Invoice(
        DocumentType.INVOICE, "1", date(2026, 1, 1), PARTY, PARTY, tuple(items), buyer_reference="R"
    )
    assert check_xsd(build_tree(invoice, get_profile("peppol-bis3"))) == []


@given(st.binary(max_size=400))
def test_random_bytes_as_ubl_are_rejected_cleanly(data: bytes) -> None:
    with pytest.raises(RejectedDocument) as caught:  # no random bytes make a valid invoice
        read_ubl(data)
    assert caught.value.problems


@settings(max_examples=60)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["number", "lines", "seller", "quantity", "vat_rate", "issue_date"]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_any_json_is_parsed_or_rejected_with_fields(value: object) -> None:
    data = sample_data(lines=1)
    data["lines"][0]["quantity"] = value
    problems: list[Problem] = []
    try:
        parse_invoice_data(json.dumps(data).encode())
    except RejectedDocument as exc:
        problems = exc.problems
    assert all(p.field and p.rule for p in problems)


def test_build_tree_is_deterministic() -> None:
    invoice = Invoice(
        DocumentType.INVOICE,
        "1",
        date(2026, 1, 1),
        PARTY,
        PARTY,
        (Line("1", "x", Decimal(1), "C62", Decimal(1), VatCategory.STANDARD, Decimal(21)),),
        buyer_reference="R",
    )
    profile = get_profile("peppol-bis3")
    assert etree.tostring(build_tree(invoice, profile)) == etree.tostring(
        build_tree(invoice, profile)
    )
