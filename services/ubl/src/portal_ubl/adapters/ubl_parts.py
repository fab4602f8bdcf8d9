"""Parts of the UBL template: lines, parties, addresses, tax categories, allowances/charges,
periods and delivery, each a pure function from the canonical model to template nodes."""

from __future__ import annotations

from decimal import Decimal

from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.domain.model import (
    EXEMPTION_DEFAULTS,
    Address,
    AllowanceCharge,
    Invoice,
    Line,
    Party,
    Period,
    VatCategory,
)
from portal_ubl.domain.totals import (
    allowance_charge_amount,
    format_amount,
    format_number,
    line_gross,
    round2,
)

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"

Value = str | list["Node"] | None
Attrs = dict[str, str]
Node = tuple[str, Value, Attrs | None]


def invoice_line(
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
            period(line.period),
            *[
                allowance_charge(item, None, cur, document_level=False, base=gross)
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


def tax_category(
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


def allowance_charge(
    item: AllowanceCharge,
    amount: Decimal | None,
    cur: dict[str, str],
    *,
    document_level: bool,
    base: Decimal,
) -> Node:
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
            tax_category(CAC + "TaxCategory", category, item.vat_rate or Decimal(0), None, None)
            if document_level
            else (CAC + "TaxCategory", None, None),
        ],
        None,
    )


def party(who: Party) -> Node:
    endpoint = who.endpoint()
    return (
        CAC + "Party",
        [
            (CBC + "EndpointID", endpoint[1], {"schemeID": endpoint[0]})
            if endpoint
            else (CBC + "EndpointID", None, None),
            (CAC + "PartyName", [(CBC + "Name", who.name, None)], None),
            address(CAC + "PostalAddress", who.address),
            (
                CAC + "PartyTaxScheme",
                [
                    (CBC + "CompanyID", who.vat_number, None),
                    (CAC + "TaxScheme", [(CBC + "ID", "VAT", None)], None),
                ]
                if who.vat_number
                else None,
                None,
            ),
            (
                CAC + "PartyLegalEntity",
                [
                    (CBC + "RegistrationName", who.name, None),
                    (CBC + "CompanyID", who.enterprise_number, {"schemeID": "0208"})
                    if who.enterprise_number
                    else (CBC + "CompanyID", None, None),
                ],
                None,
            ),
            (
                CAC + "Contact",
                [
                    (CBC + "Name", who.contact_name, None),
                    (CBC + "Telephone", who.telephone, None),
                    (CBC + "ElectronicMail", who.email, None),
                ]
                if (who.contact_name or who.telephone or who.email)
                else None,
                None,
            ),
        ],
        None,
    )


def address(tag: str, place: Address) -> Node:
    return (
        tag,
        [
            (CBC + "StreetName", place.street, None),
            (CBC + "AdditionalStreetName", place.additional_street, None),
            (CBC + "CityName", place.city, None),
            (CBC + "PostalZone", place.postal_zone, None),
            (CBC + "CountrySubentity", place.subdivision, None),
            (CAC + "Country", [(CBC + "IdentificationCode", place.country_code, None)], None),
        ],
        None,
    )


def period(value: Period | None) -> Node:
    start = value.start if value else None
    end = value.end if value else None
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


def delivery(invoice: Invoice) -> Node:
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
                    address(CAC + "Address", d.address)
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
