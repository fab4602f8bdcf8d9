"""The UBL 2.1 Invoice / CreditNote as an ordered, data-only template (after Odoo's dict_to_xml).

Each node is ``(tag, value, attributes)``: ``value`` is text, a list of child nodes, or None (the
node is left out, so optional parts need no ``if`` at render time). Children are listed in the
XSD's sequence order. Only :func:`portal_ubl.adapters.ubl_writer.render` touches lxml.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.domain.model import (
    EXEMPTION_DEFAULTS,
    Address,
    AllowanceCharge,
    Attachment,
    Invoice,
    Line,
    Party,
    VatCategory,
)
from portal_ubl.domain.totals import Totals, format_amount, format_number, line_gross

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

Value = str | list["Node"] | None
Node = tuple[str, Value, dict[str, str] | None]

# Peppol EAS scheme of a VAT number used as electronic address, per country (codes list 2026).
_VAT_SCHEMES = {
    "BE": "9925",
    "DE": "9930",
    "FR": "9957",
    "NL": "9944",
    "LU": "9938",
    "AT": "9914",
    "ES": "9920",
    "IE": "9935",
    "IT": "0211",
}


def invoice_template(invoice: Invoice, totals: Totals, profile: Profile) -> tuple[str, list[Node]]:
    """The root tag and its children for ``invoice`` as ``profile`` wants it."""
    cur = {"currencyID": invoice.currency}
    credit = invoice.is_credit_note
    root = f"{{{CREDIT_NOTE_NS}}}CreditNote" if credit else f"{{{INVOICE_NS}}}Invoice"
    due_in_means = invoice.due_date.isoformat() if credit and invoice.due_date else None
    children: list[Node] = [
        (CBC + "CustomizationID", profile.customization_id, None),
        (CBC + "ProfileID", profile.profile_id, None),
        (CBC + "ID", invoice.number, None),
        (CBC + "IssueDate", invoice.issue_date.isoformat(), None),
        (
            CBC + "DueDate",
            invoice.due_date.isoformat() if invoice.due_date and not credit else None,
            None,
        ),
        (CBC + ("CreditNoteTypeCode" if credit else "InvoiceTypeCode"), invoice.type.value, None),
        # PEPPOL-EN16931-R002 allows one document note: several notes are joined, not dropped.
        (CBC + "Note", "\n".join(invoice.notes) or None, None),
        (CBC + "DocumentCurrencyCode", invoice.currency, None),
        (CBC + "BuyerReference", invoice.buyer_reference, None),
        _period(invoice.period),
        (
            CAC + "OrderReference",
            [(CBC + "ID", invoice.order_reference, None)] if invoice.order_reference else None,
            None,
        ),
        *[
            (
                CAC + "BillingReference",
                [
                    (
                        CAC + "InvoiceDocumentReference",
                        [
                            (CBC + "ID", ref.number, None),
                            (
                                CBC + "IssueDate",
                                ref.issue_date.isoformat() if ref.issue_date else None,
                                None,
                            ),
                        ],
                        None,
                    )
                ],
                None,
            )
            for ref in invoice.billing_references
        ],
        *_document_references(invoice, profile),
        (CAC + "AccountingSupplierParty", [_party(invoice.seller)], None),
        (CAC + "AccountingCustomerParty", [_party(invoice.buyer)], None),
        _delivery(invoice),
        *[
            (
                CAC + "PaymentMeans",
                [
                    (CBC + "PaymentMeansCode", means.code, None),
                    (CBC + "PaymentDueDate", due_in_means, None),
                    (CBC + "PaymentID", means.structured_reference or means.reference, None),
                    (
                        CAC + "PayeeFinancialAccount",
                        [
                            (CBC + "ID", means.iban, None),
                            (CBC + "Name", means.account_name, None),
                            (
                                CAC + "FinancialInstitutionBranch",
                                [(CBC + "ID", means.bic, None)] if means.bic else None,
                                None,
                            ),
                        ]
                        if means.iban
                        else None,
                        None,
                    ),
                ],
                None,
            )
            for means in invoice.payment_means
        ],
        (
            CAC + "PaymentTerms",
            [(CBC + "Note", invoice.payment_terms, None)] if invoice.payment_terms else None,
            None,
        ),
        *[
            _allowance_charge(item, amount, cur, document_level=True, base=totals.line_extension)
            for item, amount in zip(
                invoice.allowances_charges, totals.document_amounts, strict=True
            )
        ],
        (
            CAC + "TaxTotal",
            [
                (CBC + "TaxAmount", format_amount(totals.tax_total), cur),
                *[
                    (
                        CAC + "TaxSubtotal",
                        [
                            (CBC + "TaxableAmount", format_amount(s.taxable), cur),
                            (CBC + "TaxAmount", format_amount(s.tax), cur),
                            _tax_category(
                                CAC + "TaxCategory", s.category, s.rate, invoice, profile
                            ),
                        ],
                        None,
                    )
                    for s in totals.subtotals
                ],
            ],
            None,
        ),
        (
            CAC + "LegalMonetaryTotal",
            [
                (CBC + "LineExtensionAmount", format_amount(totals.line_extension), cur),
                (CBC + "TaxExclusiveAmount", format_amount(totals.tax_exclusive), cur),
                (CBC + "TaxInclusiveAmount", format_amount(totals.tax_inclusive), cur),
                (CBC + "AllowanceTotalAmount", format_amount(totals.allowance_total), cur)
                if invoice.allowances_charges
                else (CBC + "AllowanceTotalAmount", None, None),
                (CBC + "ChargeTotalAmount", format_amount(totals.charge_total), cur)
                if invoice.allowances_charges
                else (CBC + "ChargeTotalAmount", None, None),
                (
                    CBC + "PrepaidAmount",
                    format_amount(totals.prepaid) if totals.prepaid else None,
                    cur,
                ),
                (
                    CBC + "PayableRoundingAmount",
                    format_amount(totals.rounding) if totals.rounding else None,
                    cur,
                ),
                (CBC + "PayableAmount", format_amount(totals.payable), cur),
            ],
            None,
        ),
    ]
    line_tag = CAC + ("CreditNoteLine" if credit else "InvoiceLine")
    qty_tag = CBC + ("CreditedQuantity" if credit else "InvoicedQuantity")
    children.extend(
        _line(line_tag, qty_tag, line, net, cur, profile)
        for line, net in zip(invoice.lines, totals.line_nets, strict=True)
    )
    return root, children


def _line(
    tag: str, qty_tag: str, line: Line, net: Decimal, cur: dict[str, str], profile: Profile
) -> Node:
    gross = line_gross(line) if line.allowances_charges else Decimal(0)
    return (
        tag,
        [
            (CBC + "ID", line.id, None),
            (CBC + "Note", line.note, None),
            (qty_tag, format_number(line.quantity), {"unitCode": line.unit_code}),
            (CBC + "LineExtensionAmount", format_amount(net), cur),
            (CBC + "AccountingCost", line.ledger_account if profile.ledger_account else None, None),
            _period(line.period),
            *[
                _allowance_charge(item, None, cur, document_level=False, base=gross)
                for item in line.allowances_charges
            ],
            (
                CAC + "Item",
                [
                    (CBC + "Description", line.description, None),
                    (CBC + "Name", line.name, None),
                    (
                        CAC + "SellersItemIdentification",
                        [(CBC + "ID", line.seller_item_id, None)] if line.seller_item_id else None,
                        None,
                    ),
                    _classified(line),
                ],
                None,
            ),
            (
                CAC + "Price",
                [
                    (CBC + "PriceAmount", format_number(line.unit_price), cur),
                    (
                        CBC + "BaseQuantity",
                        format_number(line.base_quantity),
                        {"unitCode": line.unit_code},
                    )
                    if line.base_quantity != 1
                    else (CBC + "BaseQuantity", None, None),
                ],
                None,
            ),
        ],
        None,
    )


def _classified(line: Line) -> Node:
    return (
        CAC + "ClassifiedTaxCategory",
        [
            (CBC + "ID", line.vat_category.value, None),
            (
                CBC + "Percent",
                None
                if line.vat_category is VatCategory.NOT_SUBJECT
                else format_number(line.vat_rate),
                None,
            ),
            (CAC + "TaxScheme", [(CBC + "ID", "VAT", None)], None),
        ],
        None,
    )


def _tax_category(
    tag: str, category: VatCategory, rate: Decimal, invoice: Invoice | None, profile: Profile | None
) -> Node:
    code = reason = None
    if invoice is not None and category in EXEMPTION_DEFAULTS:
        given = invoice.exemptions.get(category)
        default_code, default_reason = EXEMPTION_DEFAULTS[category]
        code = (given.code if given and given.code else None) or default_code or None
        reason = (given.reason if given and given.reason else None) or (
            default_reason if not (given and given.code) else None
        )
        if profile is not None and profile.ubl_be_references:
            code, reason = None, reason or default_reason or code  # UBL.BE refuses VATEX codes
    return (
        tag,
        [
            (CBC + "ID", category.value, None),
            (
                CBC + "Percent",
                None if category is VatCategory.NOT_SUBJECT else format_number(rate),
                None,
            ),
            (CBC + "TaxExemptionReasonCode", code, None),
            (CBC + "TaxExemptionReason", reason, None),
            (CAC + "TaxScheme", [(CBC + "ID", "VAT", None)], None),
        ],
        None,
    )


def _allowance_charge(
    item: AllowanceCharge,
    amount: Decimal | None,
    cur: dict[str, str],
    *,
    document_level: bool,
    base: Decimal,
) -> Node:
    from portal_ubl.domain.totals import allowance_charge_amount, round2

    value = amount if amount is not None else allowance_charge_amount(item, round2(base))
    base_amount = (
        item.base_amount
        if item.base_amount is not None
        else (round2(base) if item.percent is not None else None)
    )
    category = item.vat_category or VatCategory.STANDARD
    return (
        CAC + "AllowanceCharge",
        [
            (CBC + "ChargeIndicator", "true" if item.is_charge else "false", None),
            (CBC + "AllowanceChargeReasonCode", item.reason_code, None),
            (CBC + "AllowanceChargeReason", item.reason, None),
            (
                CBC + "MultiplierFactorNumeric",
                format_number(item.percent) if item.percent is not None else None,
                None,
            ),
            (CBC + "Amount", format_amount(value), cur),
            (
                CBC + "BaseAmount",
                format_amount(base_amount) if base_amount is not None else None,
                cur,
            ),
            _tax_category(CAC + "TaxCategory", category, item.vat_rate or Decimal(0), None, None)
            if document_level
            else (CAC + "TaxCategory", None, None),
        ],
        None,
    )


def _document_references(invoice: Invoice, profile: Profile) -> list[Node]:
    nodes: list[Node] = []
    if profile.ubl_be_references:
        nodes.append(
            (
                CAC + "AdditionalDocumentReference",
                [
                    (CBC + "ID", "UBL.BE", None),
                    (CBC + "DocumentDescription", "portal-ubl 1.0", None),
                ],
                None,
            )
        )
    rendering = "CreditNote" if invoice.is_credit_note else "CommercialInvoice"
    for i, attachment in enumerate(invoice.attachments):
        if attachment.mime_code == "application/pdf" and not profile.embed_pdf:
            continue
        described = attachment.description or (
            rendering if profile.ubl_be_references and i == 0 else None
        )
        nodes.append(_attachment(attachment, described))
    return nodes


def _attachment(attachment: Attachment, description: str | None) -> Node:
    return (
        CAC + "AdditionalDocumentReference",
        [
            (CBC + "ID", attachment.id, None),
            (CBC + "DocumentDescription", description, None),
            (
                CAC + "Attachment",
                [
                    (
                        CBC + "EmbeddedDocumentBinaryObject",
                        base64.b64encode(attachment.content).decode(),
                        {"mimeCode": attachment.mime_code, "filename": attachment.filename},
                    ),
                ],
                None,
            ),
        ],
        None,
    )


def _party(party: Party) -> Node:
    endpoint = party.endpoint()
    if endpoint and endpoint[0] == "9925" and party.vat_number:
        endpoint = (_VAT_SCHEMES.get(party.vat_number[:2], "9925"), endpoint[1])
    elif endpoint is None and party.vat_number and party.vat_number[:2] in _VAT_SCHEMES:
        endpoint = (_VAT_SCHEMES[party.vat_number[:2]], party.vat_number)
    return (
        CAC + "Party",
        [
            (CBC + "EndpointID", endpoint[1], {"schemeID": endpoint[0]})
            if endpoint
            else (CBC + "EndpointID", None, None),
            (CAC + "PartyName", [(CBC + "Name", party.name, None)], None),
            _address(CAC + "PostalAddress", party.address),
            (
                CAC + "PartyTaxScheme",
                [
                    (CBC + "CompanyID", party.vat_number, None),
                    (CAC + "TaxScheme", [(CBC + "ID", "VAT", None)], None),
                ]
                if party.vat_number
                else None,
                None,
            ),
            (
                CAC + "PartyLegalEntity",
                [
                    (CBC + "RegistrationName", party.name, None),
                    (CBC + "CompanyID", party.enterprise_number, {"schemeID": "0208"})
                    if party.enterprise_number
                    else (CBC + "CompanyID", None, None),
                ],
                None,
            ),
            (
                CAC + "Contact",
                [
                    (CBC + "Name", party.contact_name, None),
                    (CBC + "Telephone", party.telephone, None),
                    (CBC + "ElectronicMail", party.email, None),
                ]
                if (party.contact_name or party.telephone or party.email)
                else None,
                None,
            ),
        ],
        None,
    )


def _address(tag: str, address: Address) -> Node:
    return (
        tag,
        [
            (CBC + "StreetName", address.street, None),
            (CBC + "AdditionalStreetName", address.additional_street, None),
            (CBC + "CityName", address.city, None),
            (CBC + "PostalZone", address.postal_zone, None),
            (CBC + "CountrySubentity", address.subdivision, None),
            (CAC + "Country", [(CBC + "IdentificationCode", address.country_code, None)], None),
        ],
        None,
    )


def _period(period: object) -> Node:
    start = getattr(period, "start", None)
    end = getattr(period, "end", None)
    return (
        CAC + "InvoicePeriod",
        [
            (CBC + "StartDate", start.isoformat() if start else None, None),
            (CBC + "EndDate", end.isoformat() if end else None, None),
        ]
        if (start or end)
        else None,
        None,
    )


def _delivery(invoice: Invoice) -> Node:
    d = invoice.delivery
    if d is None:
        return (CAC + "Delivery", None, None)
    return (
        CAC + "Delivery",
        [
            (CBC + "ActualDeliveryDate", d.date.isoformat() if d.date else None, None),
            (
                CAC + "DeliveryLocation",
                [
                    (CBC + "ID", d.location_id, None),
                    _address(CAC + "Address", d.address)
                    if d.address
                    else (CAC + "Address", None, None),
                ]
                if (d.location_id or d.address)
                else None,
                None,
            ),
            (
                CAC + "DeliveryParty",
                [(CAC + "PartyName", [(CBC + "Name", d.party_name, None)], None)]
                if d.party_name
                else None,
                None,
            ),
        ],
        None,
    )
