"""The UBL 2.1 Invoice / CreditNote as an ordered, data-only template (after Odoo's dict_to_xml).

Each node is ``(tag, value, attributes)``: ``value`` is text, a list of child nodes, or None (the
node is left out, so optional parts need no ``if`` at render time). Children are listed in the
XSD's sequence order. Only :func:`portal_ubl.adapters.ubl_writer.render` touches lxml; the parts
(parties, lines, tax categories...) live in :mod:`.ubl_parts`.
"""

from __future__ import annotations

import base64

from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.adapters.ubl_parts import (
    CAC,
    CBC,
    Attrs,
    Node,
    Value,
    allowance_charge,
    delivery,
    invoice_line,
    party,
    period,
    tax_category,
)
from portal_ubl.domain.model import Attachment, BillingReference, Invoice, PaymentMeans
from portal_ubl.domain.totals import Totals, format_amount

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"


def invoice_template(invoice: Invoice, totals: Totals, profile: Profile) -> tuple[str, list[Node]]:
    """The root tag and its children for ``invoice`` as ``profile`` wants it."""
    cur: Attrs = {"currencyID": invoice.currency}
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
        period(invoice.period),
        (
            CAC + "OrderReference",
            [(CBC + "ID", invoice.order_reference, None)] if invoice.order_reference else None,
            None,
        ),
        *[_billing_reference(ref) for ref in invoice.billing_references],
        *_document_references(invoice, profile),
        (CAC + "AccountingSupplierParty", [party(invoice.seller)], None),
        (CAC + "AccountingCustomerParty", [party(invoice.buyer)], None),
        delivery(invoice),
        *[_payment_means(means, due_in_means) for means in invoice.payment_means],
        (
            CAC + "PaymentTerms",
            [(CBC + "Note", invoice.payment_terms, None)] if invoice.payment_terms else None,
            None,
        ),
        *[
            allowance_charge(item, amount, cur, document_level=True, base=totals.line_extension)
            for item, amount in zip(
                invoice.allowances_charges, totals.document_amounts, strict=True
            )
        ],
        _tax_total(invoice, totals, profile, cur),
        _monetary_total(invoice, totals, cur),
    ]
    line_tag = CAC + ("CreditNoteLine" if credit else "InvoiceLine")
    qty_tag = CBC + ("CreditedQuantity" if credit else "InvoicedQuantity")
    children.extend(
        invoice_line(line_tag, qty_tag, line, net, cur, profile)
        for line, net in zip(invoice.lines, totals.line_nets, strict=True)
    )
    return root, children


def _billing_reference(ref: BillingReference) -> Node:
    issued = ref.issue_date.isoformat() if ref.issue_date else None
    document: list[Node] = [(CBC + "ID", ref.number, None), (CBC + "IssueDate", issued, None)]
    return (CAC + "BillingReference", [(CAC + "InvoiceDocumentReference", document, None)], None)


def _payment_means(means: PaymentMeans, due: str | None) -> Node:
    branch: Value = [(CBC + "ID", means.bic, None)] if means.bic else None
    account: Value = (
        [
            (CBC + "ID", means.iban, None),
            (CBC + "Name", means.account_name, None),
            (CAC + "FinancialInstitutionBranch", branch, None),
        ]
        if means.iban
        else None
    )
    return (
        CAC + "PaymentMeans",
        [
            (CBC + "PaymentMeansCode", means.code, None),
            (CBC + "PaymentDueDate", due, None),
            (CBC + "PaymentID", means.structured_reference or means.reference, None),
            (CAC + "PayeeFinancialAccount", account, None),
        ],
        None,
    )


def _tax_total(invoice: Invoice, totals: Totals, profile: Profile, cur: Attrs) -> Node:
    subtotals: list[Node] = [
        (
            CAC + "TaxSubtotal",
            [
                (CBC + "TaxableAmount", format_amount(s.taxable), cur),
                (CBC + "TaxAmount", format_amount(s.tax), cur),
                tax_category(CAC + "TaxCategory", s.category, s.rate, invoice, profile),
            ],
            None,
        )
        for s in totals.subtotals
    ]
    return (
        CAC + "TaxTotal",
        [(CBC + "TaxAmount", format_amount(totals.tax_total), cur), *subtotals],
        None,
    )


def _monetary_total(invoice: Invoice, totals: Totals, cur: Attrs) -> Node:
    with_ac = bool(invoice.allowances_charges)
    return (
        CAC + "LegalMonetaryTotal",
        [
            (CBC + "LineExtensionAmount", format_amount(totals.line_extension), cur),
            (CBC + "TaxExclusiveAmount", format_amount(totals.tax_exclusive), cur),
            (CBC + "TaxInclusiveAmount", format_amount(totals.tax_inclusive), cur),
            (
                CBC + "AllowanceTotalAmount",
                format_amount(totals.allowance_total) if with_ac else None,
                cur,
            ),
            (
                CBC + "ChargeTotalAmount",
                format_amount(totals.charge_total) if with_ac else None,
                cur,
            ),
            (CBC + "PrepaidAmount", format_amount(totals.prepaid) if totals.prepaid else None, cur),
            (
                CBC + "PayableRoundingAmount",
                format_amount(totals.rounding) if totals.rounding else None,
                cur,
            ),
            (CBC + "PayableAmount", format_amount(totals.payable), cur),
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
                        base64.b64encode(attachment.content).decode("ascii"),
                        {"mimeCode": attachment.mime_code, "filename": attachment.filename},
                    ),
                ],
                None,
            ),
        ],
        None,
    )
