"""The canonical invoice every input is turned into and every UBL profile is written from.

It follows EN 16931 (the BT/BG numbers are given where it helps) with Belgian habits on top:
enterprise numbers, structured payment references and sales ledger accounts per line. Values are
``Decimal`` as given; rounding happens in :mod:`portal_ubl.domain.totals`, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from portal_contracts.filenames import safe_filename


class DocumentType(StrEnum):
    """UNTDID 1001 codes of the two documents Peppol BIS Billing 3.0 carries."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class VatCategory(StrEnum):
    """UNCL 5305 VAT categories supported in Belgium (BT-151, BT-118)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


# Categories whose VAT breakdown must give an exemption reason (BR-E-10, BR-AE-10, BR-IC-10,
# BR-G-10, BR-O-10), with the VATEX code used when the input gives none.
EXEMPTION_DEFAULTS: dict[VatCategory, tuple[str, str]] = {
    VatCategory.EXEMPT: ("", ""),  # no sensible default: the reason depends on the article
    VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    VatCategory.INTRA_COMMUNITY: ("VATEX-EU-IC", "Intra-Community supply"),
    VatCategory.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
    VatCategory.NOT_SUBJECT: ("VATEX-EU-O", "Not subject to VAT"),
}


# Peppol EAS scheme of a VAT number used as electronic address, per country (EAS code list).
VAT_ENDPOINT_SCHEMES = {
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


@dataclass(frozen=True, slots=True)
class Address:
    country_code: str  # ISO 3166-1 alpha-2 (BT-40, BT-55)
    street: str | None = None
    additional_street: str | None = None
    city: str | None = None
    postal_zone: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address: Address
    vat_number: str | None = None  # BE0403170701
    enterprise_number: str | None = None  # 0403170701 (KBO/BCE, scheme 0208)
    peppol_id: str | None = None  # "0208:0403170701"; derived from the numbers when absent
    email: str | None = None
    contact_name: str | None = None
    telephone: str | None = None

    def endpoint(self) -> tuple[str, str] | None:
        """The Peppol electronic address (BT-34/BT-49) as (scheme, value)."""
        if self.peppol_id and ":" in self.peppol_id:
            scheme, _, value = self.peppol_id.partition(":")
            return scheme, value
        if self.enterprise_number:
            return "0208", self.enterprise_number
        if self.vat_number and self.vat_number[:2] in VAT_ENDPOINT_SCHEMES:
            return VAT_ENDPOINT_SCHEMES[self.vat_number[:2]], self.vat_number
        return None


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """A discount (allowance) or surcharge (charge) on a line (BG-27/28) or the document (BG-20/21).

    Either ``amount`` or ``percent`` of ``base_amount`` (the line net when on a line) is given.
    """

    is_charge: bool
    amount: Decimal | None = None
    percent: Decimal | None = None
    base_amount: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    vat_category: VatCategory | None = None  # document level only
    vat_rate: Decimal | None = None  # document level only


@dataclass(frozen=True, slots=True)
class Period:
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    name: str
    quantity: Decimal
    unit_code: str  # UN/ECE rec 20 (C62 = one, HUR = hour)
    unit_price: Decimal  # net price (BT-146)
    vat_category: VatCategory
    vat_rate: Decimal
    base_quantity: Decimal = Decimal(1)
    description: str | None = None
    note: str | None = None
    ledger_account: str | None = None  # sales ledger account, written by profiles that want it
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    period: Period | None = None
    seller_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentMeans:
    code: str = "30"  # UNCL 4461: 30 credit transfer, 58 SEPA credit transfer, 49 direct debit
    iban: str | None = None
    bic: str | None = None
    account_name: str | None = None
    structured_reference: str | None = None  # +++090/9337/55493+++ (checked on the way in)
    reference: str | None = None  # free remittance information when no structured one


@dataclass(frozen=True, slots=True)
class Attachment:
    """A supporting document (BG-24); the invoice PDF itself is one, carried byte for byte."""

    id: str
    filename: str
    mime_code: str
    content: bytes
    description: str | None = None

    def __post_init__(self) -> None:
        # Names read from a received UBL or the intake data are made safe once, here.
        object.__setattr__(self, "filename", safe_filename(self.filename))


@dataclass(frozen=True, slots=True)
class Delivery:
    date: date | None = None
    address: Address | None = None
    party_name: str | None = None
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class BillingReference:
    """The invoice a credit note corrects (BG-3)."""

    number: str
    issue_date: date | None = None


@dataclass(frozen=True, slots=True)
class Exemption:
    code: str | None = None  # VATEX code (BT-121)
    reason: str | None = None  # text (BT-120)


@dataclass(frozen=True, slots=True)
class SuppliedTotals:
    """Totals the sender states; checked against ours, never trusted (BR-CO-10..16)."""

    line_extension: Decimal | None = None
    tax_exclusive: Decimal | None = None
    tax_total: Decimal | None = None
    tax_inclusive: Decimal | None = None
    payable: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StatedVat:
    """A VAT breakdown row as the sender's document states it (BG-23), for received invoices."""

    category: VatCategory
    rate: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    type: DocumentType
    number: str
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    currency: str = "EUR"
    due_date: date | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    notes: tuple[str, ...] = ()
    payment_terms: str | None = None
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    payment_means: tuple[PaymentMeans, ...] = ()
    period: Period | None = None
    delivery: Delivery | None = None
    billing_references: tuple[BillingReference, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    exemptions: dict[VatCategory, Exemption] = field(default_factory=dict)
    prepaid_amount: Decimal = Decimal(0)
    rounding_amount: Decimal = Decimal(0)
    supplied_totals: SuppliedTotals | None = None
    stated_vat: tuple[StatedVat, ...] = ()

    @property
    def is_credit_note(self) -> bool:
        return self.type is DocumentType.CREDIT_NOTE
