"""Business checks on a canonical invoice before any UBL is written.

Rule ids are the EN 16931 / Peppol ones where a rule exists, so a person can look them up; ``UBL-``
ids are ours. All problems are collected and returned together.
"""

from __future__ import annotations

import re
from decimal import Decimal

from portal_ubl.domain.errors import Problem
from portal_ubl.domain.model import EXEMPTION_DEFAULTS, Invoice, VatCategory
from portal_ubl.domain.totals import Totals, format_amount, rate_key

_STRUCTURED = re.compile(r"^\+\+\+(\d{3})/(\d{4})/(\d{5})\+\+\+$")
_ZERO_RATE = {c for c in VatCategory if c is not VatCategory.STANDARD}


def normalise_structured_reference(raw: str) -> str | None:
    """``+++ddd/dddd/ddddd+++`` when ``raw`` is a valid Belgian structured reference, else None.

    Accepts the 12 digits with or without the ``+++``/``***`` dressing; the last two digits are the
    first ten modulo 97, with 97 standing for 0.
    """
    digits = re.sub(r"[+*/\s.]", "", raw)
    if not re.fullmatch(r"\d{12}", digits):
        return None
    check = int(digits[:10]) % 97 or 97
    if check != int(digits[10:]):
        return None
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def is_structured_reference(text: str) -> bool:
    return bool(_STRUCTURED.match(text)) and normalise_structured_reference(text) == text


def check_invoice(invoice: Invoice) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_lines(invoice)
    problems += _check_categories(invoice)
    for i, means in enumerate(invoice.payment_means):
        ref = means.structured_reference
        if ref is not None and not is_structured_reference(ref):
            problems.append(
                Problem(
                    f"payment_means.{i}.structured_reference",
                    "UBL-PAY-01",
                    "a Belgian structured reference is +++ddd/dddd/ddddd+++ with the last two "
                    "digits the first ten modulo 97",
                )
            )
    if invoice.is_credit_note and not invoice.billing_references:
        # Peppol only recommends it; Belgian accounting imports need it to match the invoice.
        problems.append(
            Problem(
                "billing_references", "UBL-CN-01", "a credit note names the invoice it corrects"
            )
        )
    for role, party, rule in (
        ("seller", invoice.seller, "PEPPOL-EN16931-R020"),
        ("buyer", invoice.buyer, "PEPPOL-EN16931-R010"),
    ):
        if party.endpoint() is None:
            problems.append(
                Problem(
                    f"{role}.peppol_id",
                    rule,
                    "an electronic address is needed: a Peppol id, an enterprise number or a "
                    "VAT number",
                )
            )
    if not (invoice.buyer_reference or invoice.order_reference):
        problems.append(
            Problem(
                "buyer_reference",
                "PEPPOL-EN16931-R003",
                "a buyer reference or an order reference must be given",
            )
        )
    return problems


def _check_lines(invoice: Invoice) -> list[Problem]:
    problems: list[Problem] = []
    if not invoice.lines:
        problems.append(Problem("lines", "BR-16", "an invoice has at least one line"))
    for i, line in enumerate(invoice.lines):
        where = f"lines.{i}"
        if line.unit_price < 0:
            problems.append(
                Problem(f"{where}.unit_price", "BR-27", "the item net price must not be negative")
            )
        if line.base_quantity <= 0:
            problems.append(
                Problem(
                    f"{where}.base_quantity",
                    "PEPPOL-EN16931-R121",
                    "the base quantity must be positive",
                )
            )
        if line.quantity < 0 and invoice.is_credit_note:
            problems.append(
                Problem(
                    f"{where}.quantity",
                    "UBL-QTY-01",
                    "a credit note line states a positive quantity (a negative credit is an "
                    "invoice)",
                )
            )
        for j, item in enumerate(line.allowances_charges):
            if item.amount is None and item.percent is None:
                problems.append(
                    Problem(
                        f"{where}.allowances_charges.{j}.amount",
                        "BR-41" if not item.is_charge else "BR-43",
                        "an allowance or charge states an amount or a percentage",
                    )
                )
            if item.amount is not None and item.amount < 0:
                problems.append(
                    Problem(
                        f"{where}.allowances_charges.{j}.amount",
                        "UBL-AC-01",
                        "an allowance or charge amount is positive; the kind says its sign",
                    )
                )
    return problems


def _check_categories(invoice: Invoice) -> list[Problem]:
    problems: list[Problem] = []
    used: set[VatCategory] = set()
    for i, line in enumerate(invoice.lines):
        used.add(line.vat_category)
        problems += _check_rate(f"lines.{i}", line.vat_category, line.vat_rate)
    for i, item in enumerate(invoice.allowances_charges):
        category = item.vat_category or VatCategory.STANDARD
        used.add(category)
        problems += _check_rate(f"allowances_charges.{i}", category, item.vat_rate or Decimal(0))
        if item.amount is None and item.percent is None:
            problems.append(
                Problem(
                    f"allowances_charges.{i}.amount",
                    "BR-31" if not item.is_charge else "BR-36",
                    "an allowance or charge states an amount or a percentage",
                )
            )
    for category in sorted(used & set(EXEMPTION_DEFAULTS)):
        given = invoice.exemptions.get(category)
        default_code, _ = EXEMPTION_DEFAULTS[category]
        if not default_code and not (given and (given.code or given.reason)):
            problems.append(
                Problem(
                    f"exemptions.{category.value}",
                    "BR-E-10",
                    "exempt VAT (category E) needs an exemption reason or VATEX code",
                )
            )
    if VatCategory.NOT_SUBJECT in used and len(used) > 1:
        problems.append(
            Problem("lines", "BR-O-11", "category O (not subject to VAT) cannot be mixed")
        )
    if VatCategory.NOT_SUBJECT in used:
        for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
            if party.vat_number:
                problems.append(
                    Problem(
                        f"{role}.vat_number",
                        "BR-O-02",
                        "with category O (not subject to VAT) no VAT number is stated",
                    )
                )
    for category, rule in (
        (VatCategory.REVERSE_CHARGE, "BR-AE-02"),
        (VatCategory.INTRA_COMMUNITY, "BR-IC-02"),
    ):
        if category in used and not invoice.buyer.vat_number:
            problems.append(
                Problem("buyer.vat_number", rule, f"category {category.value} needs the buyer VAT")
            )
    if VatCategory.INTRA_COMMUNITY in used:
        has_date = invoice.delivery is not None and invoice.delivery.date is not None
        if not has_date and invoice.period is None:
            problems.append(
                Problem("delivery.date", "BR-IC-11", "category K needs a delivery date or period")
            )
    return problems


def _check_rate(where: str, category: VatCategory, rate: Decimal) -> list[Problem]:
    if category is VatCategory.STANDARD and rate <= 0:
        return [Problem(f"{where}.vat_rate", "BR-S-05", "category S has a rate above zero")]
    if category in _ZERO_RATE and rate != 0:
        return [
            Problem(f"{where}.vat_rate", "BR-Z-05", f"category {category.value} has a zero rate")
        ]
    return []


_SUPPLIED = (
    ("line_extension", "BR-CO-10", "the sum of line net amounts"),
    ("tax_exclusive", "BR-CO-13", "lines − allowances + charges"),
    ("tax_total", "BR-CO-14", "the sum of the VAT breakdown"),
    ("tax_inclusive", "BR-CO-15", "the total without VAT + VAT"),
    ("payable", "BR-CO-16", "the total with VAT − prepaid + rounding"),
)


def check_supplied_totals(invoice: Invoice, totals: Totals) -> list[Problem]:
    """Totals the sender typed must equal ours to the cent; each mismatch names its rule."""
    problems: list[Problem] = []
    computed = {(s.category, s.rate): s.tax for s in totals.subtotals}
    for i, stated in enumerate(invoice.stated_vat):
        ours = computed.get((stated.category, rate_key(stated.rate)))
        if ours is not None and ours != stated.tax:
            problems.append(
                Problem(
                    f"vat_breakdown.{i}.tax",
                    "BR-CO-17",
                    f"{format_amount(stated.tax)} stated, but the base times the rate is "
                    f"{format_amount(ours)}",
                )
            )
    supplied = invoice.supplied_totals
    if supplied is None or problems:  # totals built on a wrong VAT row follow from it: one cause
        return problems
    for name, rule, meaning in _SUPPLIED:
        given: Decimal | None = getattr(supplied, name)
        expected: Decimal = getattr(totals, name)
        if given is not None and given != expected:
            problems.append(
                Problem(
                    f"totals.{name}",
                    rule,
                    f"{format_amount(given)} given, but {meaning} is {format_amount(expected)}",
                )
            )
    return problems
