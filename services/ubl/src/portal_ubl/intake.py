"""The intake JSON: the structured data a client or an accountant types next to a PDF.

This is the request schema (``ubl schema`` prints it); it is kept apart from the canonical model,
which :func:`to_invoice` builds from it. Identifiers are normalised with the shared value types
(VAT number, IBAN) and the Belgian structured reference with its mod-97 check.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from portal_contracts.values import Iban, InvalidValue, VatNumber, normalise_vat_number
from portal_ubl.domain import model as m
from portal_ubl.domain.errors import Problem, RejectedDocument
from portal_ubl.domain.rules import normalise_structured_reference


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddressData(_Data):
    street: str | None = None
    additional_street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    subdivision: str | None = None
    country: str = Field(default="BE", pattern=r"^[A-Z]{2}$")


class PartyData(_Data):
    name: str = Field(min_length=1)
    vat_number: VatNumber | None = None
    enterprise_number: str | None = None
    peppol_id: str | None = Field(default=None, pattern=r"^\d{4}:\S+$")
    address: AddressData = Field(default_factory=AddressData)
    email: str | None = None
    contact_name: str | None = None
    telephone: str | None = None

    @field_validator("enterprise_number")
    @classmethod
    def _enterprise(cls, value: str | None) -> str | None:
        # KBO/BCE numbers share the Belgian VAT number's digits and mod-97 check.
        if value is None:
            return None
        try:
            return normalise_vat_number(value.removeprefix("BE"))[2:]
        except InvalidValue as exc:
            raise ValueError("enterprise_number.checksum") from exc


class AllowanceChargeData(_Data):
    kind: Literal["allowance", "charge"]
    amount: Decimal | None = None
    percent: Decimal | None = None
    base_amount: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    vat_category: m.VatCategory | None = None  # document level only
    vat_rate: Decimal | None = None


class PeriodData(_Data):
    start: date | None = None
    end: date | None = None


class LineData(_Data):
    description: str = Field(min_length=1)
    quantity: Decimal
    unit_code: str = Field(default="C62", pattern=r"^[A-Z0-9]{1,3}$")
    unit_price: Decimal
    base_quantity: Decimal = Decimal(1)
    vat_category: m.VatCategory = m.VatCategory.STANDARD
    vat_rate: Decimal
    ledger_account: str | None = None  # sales invoices: one of the client's sales ledger accounts
    allowances_charges: list[AllowanceChargeData] = Field(default_factory=list)
    note: str | None = None
    period: PeriodData | None = None
    item_id: str | None = None


class PaymentMeansData(_Data):
    code: str = Field(default="30", pattern=r"^[0-9A-Z]{1,3}$")
    iban: Iban | None = None
    bic: str | None = None
    account_name: str | None = None
    structured_reference: str | None = None
    reference: str | None = None

    @field_validator("structured_reference")
    @classmethod
    def _structured(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = normalise_structured_reference(value)
        if normalised is None:
            raise ValueError("structured_reference.checksum")
        return normalised


class DeliveryData(_Data):
    date: dt.date | None = None
    address: AddressData | None = None
    party_name: str | None = None
    location_id: str | None = None


class BillingReferenceData(_Data):
    number: str
    issue_date: date | None = None


class AttachmentData(_Data):
    filename: str = Field(min_length=1, max_length=200)
    mime_code: Literal[
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    ]
    content_base64: str
    description: str | None = None


class ExemptionData(_Data):
    code: str | None = Field(default=None, pattern=r"^VATEX-[A-Z0-9-]+$")
    reason: str | None = None


class TotalsData(_Data):
    line_extension: Decimal | None = None
    tax_exclusive: Decimal | None = None
    tax_total: Decimal | None = None
    tax_inclusive: Decimal | None = None
    payable: Decimal | None = None


class InvoiceData(_Data):
    """Structured data of an invoice or credit note (Peppol BIS Billing 3.0 terms)."""

    document_type: Literal["invoice", "credit_note"] | None = None  # None: from the kind
    number: str = Field(min_length=1, max_length=100)
    issue_date: date
    due_date: date | None = None
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    seller: PartyData
    buyer: PartyData
    buyer_reference: str | None = None
    order_reference: str | None = None
    lines: list[LineData] = Field(min_length=1, max_length=10_000)
    allowances_charges: list[AllowanceChargeData] = Field(default_factory=list)
    payment_means: list[PaymentMeansData] = Field(default_factory=list)
    payment_terms: str | None = None
    notes: list[str] = Field(default_factory=list)
    invoice_period: PeriodData | None = None
    delivery: DeliveryData | None = None
    billing_references: list[BillingReferenceData] = Field(default_factory=list)
    attachments: list[AttachmentData] = Field(default_factory=list)
    exemptions: dict[m.VatCategory, ExemptionData] = Field(default_factory=dict)
    prepaid_amount: Decimal = Decimal(0)
    rounding_amount: Decimal = Decimal(0)
    totals: TotalsData | None = None


def intake_schema() -> dict[str, Any]:
    return InvoiceData.model_json_schema()


# The documented maximum of 10,000 lines must fit: measured 4.7 MB with every line field filled
# (tests/hardening). The HTTP edge lets the form field ``data`` carry up to this bound
# (entrypoints/http.py BODY_LIMITS), and every other way in (the CLI) holds the same one.
MAX_DATA_BYTES = 8 * 1024 * 1024


def parse_invoice_data(raw: bytes | str | dict[str, Any]) -> InvoiceData:
    """Validate intake JSON; every problem is reported with its field path."""
    if isinstance(raw, bytes | str) and len(raw) > MAX_DATA_BYTES:
        raise RejectedDocument([Problem("data", "UBL-DATA-05", "intake data over 8 MB")])
    try:
        if isinstance(raw, dict):
            return InvoiceData.model_validate(raw)
        return InvoiceData.model_validate_json(raw)
    except ValidationError as exc:
        raise RejectedDocument([_problem(err) for err in exc.errors()]) from exc
    except (ValueError, json.JSONDecodeError) as exc:
        raise RejectedDocument([Problem("data", "UBL-DATA-01", str(exc))]) from exc


def _problem(err: Any) -> Problem:
    field = ".".join(str(p) for p in err.get("loc", ())) or "data"
    kind = err.get("type", "")
    if kind == "json_invalid":
        return Problem("data", "UBL-DATA-01", f"not valid JSON: {err.get('msg')}")
    if "vat_category" in field and kind == "enum":
        return Problem(
            field,
            "BR-CL-17",
            f"unknown VAT category: {err.get('input')!r}; use one of S, Z, E, AE, K, G, O",
        )
    if kind == "missing":
        return Problem(field, "UBL-DATA-02", "this field is required")
    return Problem(field, "UBL-DATA-03", str(err.get("msg", "invalid value")))
