"""The official CEN EN 16931 and Peppol BIS 3 rules (compiled schematron run with saxonche) over a
corpus of what the service produces: zero fatal findings, plus totals checked exactly here, since
the rules tolerate one unit of slack on VAT subtotals.

The rules must not pass vacuously: each run must have fired rules, and broken documents must be
reported with the rule id they break.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.profiles.registry import get_profile, names
from portal_ubl.adapters.validation import SchematronRules, shared_rules
from portal_ubl.domain.document import Converted, SubmitDocument
from portal_ubl.domain.errors import RejectedDocument
from portal_ubl.samples import BUYER, make_pdf, sample_data
from services.ubl.tests.fakes import facturx_pdf

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


@pytest.fixture(scope="module")
def rules() -> SchematronRules:
    return shared_rules()


def _line(
    desc: str, qty: str, price: str, cat: str = "S", rate: str = "21", **kw: Any
) -> dict[str, Any]:
    return {
        "description": desc,
        "quantity": qty,
        "unit_price": price,
        "vat_category": cat,
        "vat_rate": rate,
        **kw,
    }


def _convert(
    data: dict[str, Any],
    kind: DocumentKind = DocumentKind.SALES_INVOICE,
    pdf: bytes | None = None,
    profile: str | None = None,
) -> Converted:
    cmd = SubmitDocument(
        "office",
        "client",
        kind,
        pdf=pdf or make_pdf(),
        pdf_filename="invoice.pdf",
        data=json.dumps(data).encode(),
        profile=profile,
    )
    return convert(cmd, None)


def _totals(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    total = root.find(CAC + "LegalMonetaryTotal")
    assert total is not None
    values = {child.tag.removeprefix(CBC): child.text or "" for child in total}
    values["TaxAmount"] = root.findtext(f"{CAC}TaxTotal/{CBC}TaxAmount") or ""
    return values


def _breakdown(xml: bytes) -> set[tuple[str, str, str, str]]:
    root = etree.fromstring(xml)
    return {
        (
            s.findtext(f"{CAC}TaxCategory/{CBC}ID") or "",
            s.findtext(f"{CAC}TaxCategory/{CBC}Percent") or "",
            s.findtext(CBC + "TaxableAmount") or "",
            s.findtext(CBC + "TaxAmount") or "",
        )
        for s in root.iter(CAC + "TaxSubtotal")
    }


NL_BUYER = {
    "name": "Koper BV",
    "vat_number": "NL004495445B01",
    "address": {"street": "Damrak 1", "city": "Amsterdam", "postal_code": "1012", "country": "NL"},
}

CASES: dict[str, tuple[dict[str, Any], dict[str, str], set[tuple[str, str, str, str]] | None]] = {
    "rates 21/12/6/0": (
        sample_data(lines=0, number="MIX-1")
        | {
            "lines": [
                _line("Conseil", "3", "33.33"),
                _line("Livres", "2", "12.345", rate="12"),
                _line("Repas", "1", "7.5", rate="6"),
                _line("Journal", "1", "10", "Z", "0"),
            ]
        },
        {
            "LineExtensionAmount": "142.18",
            "TaxExclusiveAmount": "142.18",
            "TaxAmount": "24.41",
            "TaxInclusiveAmount": "166.59",
            "PayableAmount": "166.59",
        },
        {
            ("S", "21", "99.99", "21.00"),
            ("S", "12", "24.69", "2.96"),
            ("S", "6", "7.50", "0.45"),
            ("Z", "0", "10.00", "0.00"),
        },
    ),
    "reverse charge": (
        sample_data(lines=0, number="AE-1", notes=["Autoliquidation - art. 51 §2 CTVA"])
        | {"lines": [_line("Travaux immobiliers", "10", "55", "AE", "0")]},
        {"PayableAmount": "550.00", "TaxAmount": "0.00"},
        {("AE", "0", "550.00", "0.00")},
    ),
    "exempt with reason": (
        sample_data(
            lines=0,
            number="E-1",
            exemptions={"E": {"reason": "Exemption art. 44 CTVA", "code": "VATEX-EU-132"}},
        )
        | {"lines": [_line("Formation", "1", "500", "E", "0")]},
        {"PayableAmount": "500.00"},
        {("E", "0", "500.00", "0.00")},
    ),
    "allowances and charges, both levels": (
        sample_data(
            lines=0,
            number="AC-1",
            allowances_charges=[
                {
                    "kind": "allowance",
                    "amount": "5",
                    "reason": "Remise fidélité",
                    "vat_category": "S",
                    "vat_rate": "21",
                },
                {
                    "kind": "charge",
                    "percent": "2",
                    "reason_code": "FC",
                    "reason": "Transport",
                    "vat_category": "S",
                    "vat_rate": "21",
                },
            ],
        )
        | {
            "lines": [
                _line(
                    "Chaises",
                    "4",
                    "25",
                    allowances_charges=[
                        {"kind": "allowance", "percent": "10", "reason": "Promo"},
                        {"kind": "charge", "amount": "2.50", "reason": "Emballage"},
                    ],
                ),
                _line("Tables", "1", "100"),
            ]
        },
        # lines 92.50 + 100 = 192.50; charge 2 % of 192.50 = 3.85; excl 191.35; VAT 40.18
        {
            "LineExtensionAmount": "192.50",
            "AllowanceTotalAmount": "5.00",
            "ChargeTotalAmount": "3.85",
            "TaxExclusiveAmount": "191.35",
            "TaxAmount": "40.18",
            "TaxInclusiveAmount": "231.53",
            "PayableAmount": "231.53",
        },
        {("S", "21", "191.35", "40.18")},
    ),
    "prepayment": (
        sample_data(lines=1, number="PP-1", prepaid_amount="50"),
        {"TaxInclusiveAmount": "110.11", "PrepaidAmount": "50.00", "PayableAmount": "60.11"},
        None,
    ),
    "intra-community supply": (
        sample_data(
            lines=0,
            number="IC-1",
            buyer=NL_BUYER,
            delivery={"date": "2026-01-10", "address": {"city": "Amsterdam", "country": "NL"}},
        )
        | {"lines": [_line("Machine", "1", "1200", "K", "0")]},
        {"PayableAmount": "1200.00"},
        {("K", "0", "1200.00", "0.00")},
    ),
    "export": (
        sample_data(lines=0, number="G-1") | {"lines": [_line("Export", "2", "80", "G", "0")]},
        {"PayableAmount": "160.00"},
        {("G", "0", "160.00", "0.00")},
    ),
    "not subject to VAT": (
        sample_data(
            lines=0,
            number="O-1",
            seller={
                "name": "ASBL Culture",
                "enterprise_number": "0417497106",
                "address": {"city": "Liège", "country": "BE"},
            },
            buyer={k: v for k, v in BUYER.items() if k != "vat_number"},
        )
        | {"lines": [_line("Cotisation", "1", "40", "O", "0")]},
        {"PayableAmount": "40.00"},
        {("O", "", "40.00", "0.00")},
    ),
    "non-ASCII names": (
        sample_data(
            lines=1,
            number="NA-1",
            seller={
                "name": "Brasserie Œuvre & Fils — Ærø Ñandú Łódź 日本",
                "vat_number": "BE0403170701",
                "address": {"street": "Chaussée de Louvain 5", "city": "Liège", "country": "BE"},
            },
            buyer=BUYER | {"name": "Bäckerei Müller & Straße GmbH"},
        ),
        {"PayableAmount": "110.11"},
        None,
    ),
    "500 lines": (
        sample_data(lines=500, number="BIG-500"),
        {"LineExtensionAmount": "45500.00", "TaxAmount": "9555.00", "PayableAmount": "55055.00"},
        {("S", "21", "45500.00", "9555.00")},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_corpus_passes_the_official_rules_with_exact_totals(
    rules: SchematronRules, case: str
) -> None:
    data, expected_totals, expected_breakdown = CASES[case]
    converted = _convert(data)
    assert converted.ubl is not None
    assert converted.xsd_problems == []
    report = rules.check(converted.ubl)
    assert report.fired_rules > 50, "the stylesheets did not run"
    assert report.fatal == [], case
    totals = _totals(converted.ubl)
    assert {k: totals.get(k) for k in expected_totals} == expected_totals
    if expected_breakdown is not None:
        assert _breakdown(converted.ubl) == expected_breakdown


def test_credit_note(rules: SchematronRules) -> None:
    data = sample_data(
        lines=2,
        number="CN-1",
        billing_references=[{"number": "F-2026-0001", "issue_date": "2026-01-15"}],
    )
    converted = _convert(data, DocumentKind.CREDIT_NOTE)
    assert converted.ubl is not None
    root = etree.fromstring(converted.ubl)
    assert root.tag.endswith("}CreditNote")
    assert root.findtext(f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/{CBC}ID") == (
        "F-2026-0001"
    )
    assert rules.check(converted.ubl).fatal == []
    assert _totals(converted.ubl)["PayableAmount"] == "220.22"


def test_embedded_multi_page_pdf_is_kept_byte_for_byte(rules: SchematronRules) -> None:
    import base64

    pdf = make_pdf(pages=5, padding=50_000)
    converted = _convert(sample_data(lines=3, number="PDF-5"), pdf=pdf)
    assert converted.ubl is not None
    assert rules.check(converted.ubl).fatal == []
    embedded = etree.fromstring(converted.ubl).find(f".//{CBC}EmbeddedDocumentBinaryObject")
    assert embedded is not None
    assert embedded.get("mimeCode") == "application/pdf"
    assert embedded.get("filename") == "invoice.pdf"
    assert base64.b64decode(embedded.text or "") == pdf


def test_facturx_pdf_converted_to_ubl(rules: SchematronRules) -> None:
    pdf = facturx_pdf(CII, pages=2)
    cmd = SubmitDocument(
        "office", "client", DocumentKind.PURCHASE_INVOICE, pdf=pdf, pdf_filename="fx.pdf"
    )
    converted = convert(cmd, None)
    assert converted.ubl is not None
    assert not converted.needs_data_entry
    report = rules.check(converted.ubl)
    assert report.fired_rules > 50
    assert report.fatal == []
    totals = _totals(converted.ubl)
    assert (totals["TaxAmount"], totals["PayableAmount"]) == ("42.00", "242.00")
    assert converted.invoice is not None
    assert converted.invoice.seller.name == "Société Générale de Conseil"
    assert converted.invoice.lines[0].quantity == D(2)


def test_peppol_ubl_read_and_written_again(rules: SchematronRules) -> None:
    first = _convert(CASES["allowances and charges, both levels"][0])
    assert first.ubl is not None
    cmd = SubmitDocument("office", "client", DocumentKind.PURCHASE_INVOICE, xml=first.ubl)
    again = convert(cmd, None)
    assert again.ubl is not None
    assert rules.check(again.ubl).fatal == []
    assert _totals(again.ubl) == _totals(first.ubl)
    assert again.pdf == make_pdf()  # the PDF inside the UBL became the document's PDF


@pytest.mark.parametrize("profile", names())
def test_every_profile_passes_its_rules(rules: SchematronRules, profile: str) -> None:
    data = sample_data(lines=3)
    data["lines"][0]["ledger_account"] = "700000"
    converted = _convert(data, profile=profile)
    assert converted.ubl is not None
    assert converted.xsd_problems == []
    report = rules.check(converted.ubl, peppol=get_profile(converted.profile).peppol_rules)
    assert report.fired_rules > 50
    assert report.fatal == [], profile


CII = (Path(__file__).parent.parent / "data" / "cii-en16931.xml").read_bytes()


def _restate_vat(xml: bytes, tax: str) -> bytes:
    """The same invoice as a supplier whose software rounded VAT per line would send it."""
    root = etree.fromstring(xml)
    for path in (f"{CAC}TaxTotal/{CBC}TaxAmount", f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CBC}TaxAmount"):
        element = root.find(path)
        assert element is not None
        element.text = tax
    total = root.find(CAC + "LegalMonetaryTotal")
    assert total is not None
    exclusive = D(total.findtext(CBC + "TaxExclusiveAmount") or "0")
    for name in ("TaxInclusiveAmount", "PayableAmount"):
        element = total.find(CBC + name)
        assert element is not None
        element.text = f"{exclusive + D(tax):.2f}"
    return etree.tostring(root)


def test_a_received_invoice_keeps_its_own_vat_within_the_allowed_unit(
    rules: SchematronRules,
) -> None:
    sent = _convert(sample_data(lines=3, number="R-1")).ubl  # 273.00 at 21 % = 57.33
    assert sent is not None
    received = _restate_vat(sent, "57.34")
    assert rules.check(received).fatal == []  # valid Peppol: within BR-CO-17's unit
    cmd = SubmitDocument("office", "client", DocumentKind.PURCHASE_INVOICE, xml=received)
    converted = convert(cmd, None)
    assert converted.ubl is not None
    assert _totals(converted.ubl)["TaxAmount"] == "57.34"
    assert _totals(converted.ubl)["PayableAmount"] == "330.34"
    assert rules.check(converted.ubl).fatal == []


def test_a_received_invoice_with_wrong_vat_names_br_co_17() -> None:
    sent = _convert(sample_data(lines=3, number="R-2")).ubl
    assert sent is not None
    cmd = SubmitDocument(
        "office", "client", DocumentKind.PURCHASE_INVOICE, xml=_restate_vat(sent, "59.33")
    )
    with pytest.raises(RejectedDocument) as caught:
        convert(cmd, None)
    assert {p.rule for p in caught.value.problems} == {"BR-CO-17"}
    assert caught.value.problems[0].field == "vat_breakdown.0.tax"
