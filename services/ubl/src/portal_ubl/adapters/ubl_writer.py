"""Writes the UBL of a canonical invoice: the template is rendered by one function, with lxml."""

from __future__ import annotations

from lxml import etree

from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.adapters.ubl_parts import Node
from portal_ubl.adapters.ubl_template import CREDIT_NOTE_NS, INVOICE_NS, invoice_template
from portal_ubl.domain.model import Invoice
from portal_ubl.domain.totals import Totals, compute_totals

_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NSMAP_INVOICE = {None: INVOICE_NS, "cac": _CAC, "cbc": _CBC}
_NSMAP_CREDIT = {None: CREDIT_NOTE_NS, "cac": _CAC, "cbc": _CBC}


def render(root_tag: str, children: list[Node]) -> etree._Element:
    """The one place a template becomes XML: None values and empty texts are left out, which
    is how Peppol wants optional elements (PEPPOL-EN16931-R008: no empty elements)."""
    nsmap = _NSMAP_CREDIT if root_tag.startswith("{" + CREDIT_NOTE_NS) else _NSMAP_INVOICE
    root = etree.Element(root_tag, nsmap=nsmap)
    stack: list[tuple[etree._Element, list[Node]]] = [(root, children)]
    sub = etree.SubElement
    push = stack.append
    while stack:
        parent, nodes = stack.pop()
        for tag, value, attrs in nodes:
            if not value:
                continue
            if type(value) is str:  # exact type check: the hot loop of every build
                (sub(parent, tag, attrs) if attrs else sub(parent, tag)).text = value
            else:
                push((sub(parent, tag, attrs) if attrs else sub(parent, tag), value))  # type: ignore[arg-type]
    return root


def build_tree(invoice: Invoice, profile: Profile, totals: Totals | None = None) -> etree._Element:
    totals = totals if totals is not None else compute_totals(invoice)
    root_tag, children = invoice_template(invoice, totals, profile)
    return render(root_tag, children)


def serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def build_ubl(invoice: Invoice, profile: Profile, totals: Totals | None = None) -> bytes:
    return serialize(build_tree(invoice, profile, totals))
