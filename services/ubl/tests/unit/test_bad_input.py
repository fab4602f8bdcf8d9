"""Bad input: each a clear error naming the field and the rule; nothing half-made."""

from __future__ import annotations

import json

import pytest

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.pdf import MAX_PDF_BYTES, check_pdf
from portal_ubl.adapters.readers import read_ubl
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.domain.errors import RejectedDocument
from portal_ubl.intake import MAX_DATA_BYTES
from portal_ubl.samples import make_pdf, sample_data


def _rejects(
    data: dict[str, object],
    kind: DocumentKind = DocumentKind.SALES_INVOICE,
    pdf: bytes | None = None,
) -> dict[str, str]:
    cmd = SubmitDocument("o", "c", kind, pdf=pdf or make_pdf(), data=json.dumps(data).encode())
    with pytest.raises(RejectedDocument) as caught:
        convert(cmd, None)
    return {p.field: p.rule for p in caught.value.problems}


def test_unknown_vat_category_names_the_line() -> None:
    data = sample_data(lines=2)
    data["lines"][1]["vat_category"] = "X"
    assert _rejects(data) == {"lines.1.vat_category": "BR-CL-17"}


def test_totals_that_do_not_add_up_name_the_rule_they_break() -> None:
    # 10 lines of 2 × 45.50 = 910.00; VAT 191.10; total 1101.10
    data = sample_data(
        totals={
            "line_extension": "910.00",
            "tax_total": "191.10",
            "tax_inclusive": "1101.11",
            "payable": "1100.00",
        }
    )
    assert _rejects(data) == {"totals.tax_inclusive": "BR-CO-15", "totals.payable": "BR-CO-16"}


def test_totals_that_add_up_pass() -> None:
    data = sample_data(
        totals={
            "line_extension": "910.00",
            "tax_exclusive": "910.00",
            "tax_total": "191.10",
            "tax_inclusive": "1101.10",
            "payable": "1101.10",
        }
    )
    cmd = SubmitDocument(
        "o", "c", DocumentKind.SALES_INVOICE, pdf=make_pdf(), data=json.dumps(data).encode()
    )
    assert convert(cmd, None).ubl is not None


def test_negative_quantity_on_a_credit_note_is_refused() -> None:
    data = sample_data(lines=1, billing_references=[{"number": "F-1"}])
    data["lines"][0]["quantity"] = "-1"
    assert _rejects(data, DocumentKind.CREDIT_NOTE) == {"lines.0.quantity": "UBL-QTY-01"}


def test_negative_price_is_refused() -> None:
    data = sample_data(lines=1)
    data["lines"][0]["unit_price"] = "-3"
    assert _rejects(data) == {"lines.0.unit_price": "BR-27"}


def test_bad_structured_reference_and_iban() -> None:
    data = sample_data(
        lines=1,
        payment_means=[
            {"iban": "BE68539007547035", "structured_reference": "+++090/9337/55494+++"}
        ],
    )
    problems = _rejects(data)
    assert set(problems) == {"payment_means.0.iban", "payment_means.0.structured_reference"}


def test_exempt_without_reason_and_zero_rate_for_standard() -> None:
    data = sample_data(lines=2)
    data["lines"][0].update(vat_category="E", vat_rate="0")
    data["lines"][1].update(vat_rate="0")
    assert _rejects(data) == {"exemptions.E": "BR-E-10", "lines.1.vat_rate": "BR-S-05"}


def test_malformed_json() -> None:
    cmd = SubmitDocument("o", "c", DocumentKind.SALES_INVOICE, pdf=make_pdf(), data=b"{nope")
    with pytest.raises(RejectedDocument) as caught:
        convert(cmd, None)
    assert caught.value.problems[0].rule == "UBL-DATA-01"


def test_missing_field() -> None:
    data = sample_data()
    del data["issue_date"]
    assert _rejects(data) == {"issue_date": "UBL-DATA-02"}


def test_pdf_over_20_mb() -> None:
    big = make_pdf(padding=MAX_PDF_BYTES)
    with pytest.raises(RejectedDocument) as caught:
        check_pdf(big)
    assert caught.value.problems[0].rule == "UBL-PDF-01"


@pytest.mark.parametrize("payload", [b"GIF89a not a pdf", b"%PDF-1.7\ngarbage only", b""])
def test_a_pdf_that_is_not_a_pdf(payload: bytes) -> None:
    with pytest.raises(RejectedDocument) as caught:
        check_pdf(payload)
    assert caught.value.problems[0].rule == "UBL-PDF-02"
    assert caught.value.problems[0].field == "pdf"


def test_malformed_xml() -> None:
    with pytest.raises(RejectedDocument) as caught:
        read_ubl(b"<Invoice><unclosed></Invoice>")
    assert caught.value.problems[0].rule == "UBL-XML-01"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://example.invalid/evil.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE, DTD_ONLY])
def test_xml_entity_tricks_are_refused(payload: bytes) -> None:
    with pytest.raises(RejectedDocument) as caught:
        read_ubl(payload)
    assert caught.value.problems[0].rule == "UBL-XML-02"


def test_not_an_invoice() -> None:
    with pytest.raises(RejectedDocument) as caught:
        read_ubl(b"<Order xmlns='urn:x'/>")
    assert caught.value.problems[0].rule == "UBL-XML-04"


def test_xml_for_a_misc_document_is_refused() -> None:
    cmd = SubmitDocument("o", "c", DocumentKind.MISC_DOCUMENT, pdf=make_pdf(), xml=b"<a/>")
    with pytest.raises(RejectedDocument) as caught:
        convert(cmd, None)
    assert caught.value.problems[0].rule == "UBL-KIND-01"


def test_nothing_handed_in() -> None:
    with pytest.raises(RejectedDocument) as caught:
        convert(SubmitDocument("o", "c", DocumentKind.SALES_INVOICE), None)
    assert caught.value.problems[0].rule == "UBL-IN-01"


def test_a_party_without_any_electronic_address() -> None:
    data = sample_data(lines=1, buyer={"name": "Particulier", "address": {"country": "BE"}})
    assert _rejects(data) == {"buyer.peppol_id": "PEPPOL-EN16931-R010"}


def test_intake_data_over_its_bound_is_refused_before_parsing() -> None:
    data = sample_data(lines=1, notes=["x" * MAX_DATA_BYTES])
    cmd = SubmitDocument(
        "o", "c", DocumentKind.SALES_INVOICE, pdf=make_pdf(), data=json.dumps(data).encode()
    )
    with pytest.raises(RejectedDocument) as caught:
        convert(cmd, None)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("data", "UBL-DATA-05")]
