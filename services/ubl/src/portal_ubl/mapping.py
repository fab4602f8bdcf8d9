"""From the intake JSON to the canonical invoice (and nothing else)."""

from __future__ import annotations

import base64
import binascii

from portal_ubl.domain import model as m
from portal_ubl.domain.errors import Problem, RejectedDocument
from portal_ubl.intake import (
    AddressData,
    AllowanceChargeData,
    InvoiceData,
    PartyData,
    PeriodData,
)


def to_invoice(data: InvoiceData, *, credit_note: bool = False) -> m.Invoice:
    doc_type = data.document_type or ("credit_note" if credit_note else "invoice")
    totals = data.totals
    return m.Invoice(
        type=m.DocumentType.CREDIT_NOTE if doc_type == "credit_note" else m.DocumentType.INVOICE,
        number=data.number,
        issue_date=data.issue_date,
        due_date=data.due_date,
        currency=data.currency,
        seller=_party(data.seller),
        buyer=_party(data.buyer),
        buyer_reference=data.buyer_reference,
        order_reference=data.order_reference,
        lines=tuple(
            m.Line(
                id=str(i + 1),
                name=line.description,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                base_quantity=line.base_quantity,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                ledger_account=line.ledger_account,
                allowances_charges=tuple(_ac(a) for a in line.allowances_charges),
                note=line.note,
                period=_period(line.period),
                seller_item_id=line.item_id,
            )
            for i, line in enumerate(data.lines)
        ),
        allowances_charges=tuple(_ac(a) for a in data.allowances_charges),
        payment_means=tuple(
            m.PaymentMeans(
                code=p.code,
                iban=p.iban,
                bic=p.bic,
                account_name=p.account_name,
                structured_reference=p.structured_reference,
                reference=p.reference,
            )
            for p in data.payment_means
        ),
        payment_terms=data.payment_terms,
        notes=tuple(data.notes),
        period=_period(data.invoice_period),
        delivery=(
            m.Delivery(
                date=data.delivery.date,
                address=_address(data.delivery.address) if data.delivery.address else None,
                party_name=data.delivery.party_name,
                location_id=data.delivery.location_id,
            )
            if data.delivery
            else None
        ),
        billing_references=tuple(
            m.BillingReference(b.number, b.issue_date) for b in data.billing_references
        ),
        attachments=tuple(_attachments(data)),
        exemptions={k: m.Exemption(v.code, v.reason) for k, v in data.exemptions.items()},
        prepaid_amount=data.prepaid_amount,
        rounding_amount=data.rounding_amount,
        supplied_totals=(
            m.SuppliedTotals(
                totals.line_extension,
                totals.tax_exclusive,
                totals.tax_total,
                totals.tax_inclusive,
                totals.payable,
            )
            if totals
            else None
        ),
    )


def _address(a: AddressData) -> m.Address:
    return m.Address(a.country, a.street, a.additional_street, a.city, a.postal_code, a.subdivision)


def _party(p: PartyData) -> m.Party:
    return m.Party(
        name=p.name,
        address=_address(p.address),
        vat_number=p.vat_number,
        enterprise_number=p.enterprise_number,
        peppol_id=p.peppol_id,
        email=p.email,
        contact_name=p.contact_name,
        telephone=p.telephone,
    )


def _ac(a: AllowanceChargeData) -> m.AllowanceCharge:
    return m.AllowanceCharge(
        is_charge=a.kind == "charge",
        amount=a.amount,
        percent=a.percent,
        base_amount=a.base_amount,
        reason=a.reason
        or (None if a.reason_code else ("Charge" if a.kind == "charge" else "Discount")),
        reason_code=a.reason_code,
        vat_category=a.vat_category,
        vat_rate=a.vat_rate,
    )


def _period(p: PeriodData | None) -> m.Period | None:
    return m.Period(p.start, p.end) if p is not None else None


def _attachments(data: InvoiceData) -> list[m.Attachment]:
    out: list[m.Attachment] = []
    for i, a in enumerate(data.attachments):
        try:
            content = base64.b64decode(a.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RejectedDocument(
                [Problem(f"attachments.{i}.content_base64", "UBL-DATA-04", "not valid base64")]
            ) from exc
        out.append(m.Attachment(f"ATT-{i + 1}", a.filename, a.mime_code, content, a.description))
    return out
