"""Readers of what a client hands in: a Peppol BIS 3 / UBL 2.1 XML, or a PDF with Factur-X /
ZUGFeRD (CII) inside. Both go through factur-x's EN 16931 parser, then :mod:`.bt_mapping`."""

from __future__ import annotations

import io
import logging

import facturx
from lxml import etree

from portal_ubl.adapters.bt_mapping import invoice_from_bt
from portal_ubl.adapters.safe_xml import parse_untrusted
from portal_ubl.domain.errors import Problem, RejectedDocument
from portal_ubl.domain.model import Invoice

UBL_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
}
CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
# MINIMUM and BASIC WL carry no lines: such a PDF is an invoice that still needs data entry.
_FULL_LEVELS = {"basic", "en16931", "extended"}

# factur-x logs at WARNING for every PDF without XML, which is the common case here.
logging.getLogger("factur-x").setLevel(logging.ERROR)


def read_ubl(data: bytes) -> Invoice:
    root = parse_untrusted(data, "xml")
    if root.tag not in UBL_ROOTS:
        raise RejectedDocument(
            [Problem("xml", "UBL-XML-04", f"not a UBL 2.1 Invoice or CreditNote: {root.tag}")]
        )
    return _parse(root, "xml")


def read_facturx(pdf: bytes) -> Invoice | None:
    """The invoice inside a Factur-X / ZUGFeRD PDF, or None when there is none (or too little)."""
    try:
        _name, xml = facturx.get_xml_from_pdf(io.BytesIO(pdf), check_xsd=False)
    except Exception:  # pypdf raises many kinds on odd PDFs: then it simply has no invoice XML
        return None
    if not xml:
        return None
    root = parse_untrusted(xml, "pdf.facturx")
    if root.tag != CII_ROOT:
        return None
    try:
        level = facturx.get_level(root, "factur-x")
    except Exception:
        return None
    if level not in _FULL_LEVELS:
        return None
    return _parse(root, "pdf.facturx")


def _parse(root: etree._Element, field: str) -> Invoice:
    try:
        data = facturx.parse_ubl_cii_xml(root, check_xsd=True)
    except Exception as exc:  # factur-x reports schema errors as bare Exceptions
        raise RejectedDocument(
            [Problem(field, "UBL-XSD", f"does not follow its schema: {exc}"[:500])]
        ) from exc
    return invoice_from_bt(data)
