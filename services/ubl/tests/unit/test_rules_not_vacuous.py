"""The official rules are not taken on trust: broken documents must be reported with the rule
id they break, and a document out of the UBL 2.1 sequence must fail the schema."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.validation import SchematronRules, check_xsd, shared_rules
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.samples import make_pdf, sample_data

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


@pytest.fixture(scope="module")
def rules() -> SchematronRules:
    return shared_rules()


def _good() -> bytes:
    cmd = SubmitDocument(
        "office",
        "client",
        DocumentKind.SALES_INVOICE,
        pdf=make_pdf(),
        data=json.dumps(sample_data(lines=2)).encode(),
    )
    ubl = convert(cmd, None).ubl
    assert ubl is not None
    return ubl


def _tamper(xml: bytes, path: str, value: str | None) -> bytes:
    root = etree.fromstring(xml)
    element = root.find(path)
    assert element is not None
    if value is None:
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    else:
        element.text = value
    return etree.tostring(root)


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        (f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount", "999.99", "BR-CO-16"),
        (f"{CAC}LegalMonetaryTotal/{CBC}TaxInclusiveAmount", "1.00", "BR-CO-15"),
        (f"{CAC}TaxTotal/{CBC}TaxAmount", "0.01", "BR-CO-14"),
        (f"{CBC}BuyerReference", None, "PEPPOL-EN16931-R003"),
        (f"{CBC}CustomizationID", "urn:example", "PEPPOL-EN16931-R004"),
        (
            f"{CAC}AccountingSupplierParty/{CAC}Party/{CBC}EndpointID",
            "0403170702",
            "PEPPOL-COMMON-R043",
        ),
    ],
)
def test_broken_documents_are_reported_with_their_rule(
    rules: SchematronRules, path: str, value: str | None, rule: str
) -> None:
    good = _good()
    report = rules.check(_tamper(good, path, value))
    assert rule in report.rule_ids(), report.fatal


def test_xsd_reports_a_document_in_the_wrong_order() -> None:
    good = _good()
    root = etree.fromstring(good)
    issue = root.find(CBC + "IssueDate")
    assert issue is not None
    root.remove(issue)
    root.append(issue)  # IssueDate after the lines breaks the UBL 2.1 sequence
    problems = check_xsd(root)
    assert problems
    assert problems[0].rule == "UBL-XSD"
    assert "IssueDate" in problems[0].message
