"""EN 16931 arithmetic: line nets, the VAT breakdown and the document totals.

Every amount is rounded half-up to 2 decimals at the point EN 16931 defines it (line net, each
allowance or charge, each VAT subtotal), then sums are exact. The official rules accept one unit of
slack on VAT subtotals; we do not need it, and tests compare these figures exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from portal_ubl.domain.model import AllowanceCharge, Invoice, Line, VatCategory

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
VAT_SLACK = Decimal(1)
# Room for every figure made of numbers within domain.bounds (at most 41 digits), so nothing is
# rounded before round2 says so; the traps stay on: a number out of bounds fails loudly here.
EXACT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)


def allowance_charge_amount(item: AllowanceCharge, base: Decimal | None = None) -> Decimal:
    """The amount of an allowance or charge: stated, or ``percent`` of its base (BR-S-.., R040)."""
    if item.amount is not None:
        return round2(item.amount)
    base_amount = item.base_amount if item.base_amount is not None else base
    if item.percent is None or base_amount is None:
        return ZERO
    with localcontext(EXACT):
        return round2(base_amount * item.percent / HUNDRED)


def line_gross(line: Line) -> Decimal:
    """Quantity × net price ÷ base quantity, rounded (the part PEPPOL-EN16931-R120 checks)."""
    with localcontext(EXACT):
        return round2(line.quantity * line.unit_price / line.base_quantity)


def line_net(line: Line) -> Decimal:
    """BT-131: gross + line charges − line allowances."""
    gross = line_gross(line)
    net = gross
    for item in line.allowances_charges:
        amount = allowance_charge_amount(item, gross)
        net += amount if item.is_charge else -amount
    return net


@dataclass(frozen=True, slots=True)
class VatSubtotal:
    category: VatCategory
    rate: Decimal
    taxable: Decimal  # BT-116
    tax: Decimal  # BT-117


@dataclass(frozen=True, slots=True)
class Totals:
    line_nets: tuple[Decimal, ...]
    line_extension: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal  # BT-113
    rounding: Decimal  # BT-114
    payable: Decimal  # BT-115
    subtotals: tuple[VatSubtotal, ...]
    document_amounts: tuple[Decimal, ...]  # each document-level allowance or charge


def compute_totals(invoice: Invoice) -> Totals:
    """The totals of an invoice whose numbers are within domain.bounds (checked before)."""
    with localcontext(EXACT):
        return _totals(invoice)


def _totals(invoice: Invoice) -> Totals:
    line_nets = tuple(line_net(line) for line in invoice.lines)
    line_extension = sum(line_nets, ZERO)
    taxable: dict[tuple[VatCategory, Decimal], Decimal] = {}
    for line, net in zip(invoice.lines, line_nets, strict=True):
        key = (line.vat_category, rate_key(line.vat_rate))
        taxable[key] = taxable.get(key, ZERO) + net
    allowance_total = charge_total = ZERO
    document_amounts: list[Decimal] = []
    for item in invoice.allowances_charges:
        amount = allowance_charge_amount(item, line_extension)
        document_amounts.append(amount)
        category = item.vat_category or VatCategory.STANDARD
        key = (category, rate_key(item.vat_rate or Decimal(0)))
        if item.is_charge:
            charge_total += amount
            taxable[key] = taxable.get(key, ZERO) + amount
        else:
            allowance_total += amount
            taxable[key] = taxable.get(key, ZERO) - amount
    stated = {(v.category, rate_key(v.rate)): v.tax for v in invoice.stated_vat}
    subtotals = tuple(
        VatSubtotal(category, rate, base, _tax(base, rate, stated.get((category, rate))))
        for (category, rate), base in taxable.items()
    )
    tax_exclusive = line_extension - allowance_total + charge_total
    tax_total = sum((s.tax for s in subtotals), ZERO)
    tax_inclusive = tax_exclusive + tax_total
    prepaid = round2(invoice.prepaid_amount)
    rounding = round2(invoice.rounding_amount)
    return Totals(
        line_nets=line_nets,
        line_extension=line_extension,
        allowance_total=allowance_total,
        charge_total=charge_total,
        tax_exclusive=tax_exclusive,
        tax_total=tax_total,
        tax_inclusive=tax_inclusive,
        prepaid=prepaid,
        rounding=rounding,
        payable=tax_inclusive - prepaid + rounding,
        subtotals=subtotals,
        document_amounts=tuple(document_amounts),
    )


def _tax(base: Decimal, rate: Decimal, stated: Decimal | None) -> Decimal:
    """Base × rate, rounded; a received invoice's own figure is kept when it is within the one
    unit EN 16931 allows (BR-CO-17): Belgian software often rounds VAT per line, and the
    supplier's document, not our arithmetic, is what was invoiced."""
    computed = round2(base * rate / HUNDRED)
    if stated is not None and abs(stated - computed) <= VAT_SLACK:
        return round2(stated)
    return computed


def rate_key(rate: Decimal) -> Decimal:
    # 21, 21.0 and 21.00 are one VAT rate and must land in one breakdown row (BR-CO-17 groups).
    return rate.quantize(CENT, rounding=ROUND_HALF_UP).normalize() + 0


def format_amount(value: Decimal) -> str:
    return f"{value:.2f}"


def format_number(value: Decimal) -> str:
    """A quantity, price or rate without exponent and without trailing zeros (``21``, ``1.5``)."""
    text = f"{value.normalize():f}"
    return text
