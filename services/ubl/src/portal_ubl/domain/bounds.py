"""How large and how precise a number on an invoice may be; the rest is refused, field by field.

EN 16931 fixes two decimals for amounts and no magnitude at all; UBL and CII take any
``xs:decimal``. A real invoice, though, never comes near these bounds:

- amounts (prices, allowances, charges, prepaid, rounding, totals, VAT): ``|x| < 10^12`` — up to
  999,999,999,999.99, i.e. 15 significant digits with the cents, what an IEEE double (and the
  ``numeric(15,2)`` fields of accounting software) holds exactly;
- quantities (invoiced and base quantity): ``|x| < 10^9`` — a billion units (kWh, litres, pieces);
- percentages (VAT rates, allowance and charge percentages): ``0 <= x <= 100`` — the highest VAT
  rate in the EU is 27 %;
- at most 10 decimals everywhere (trailing zeros aside): energy prices use 6; amounts are then
  rounded half-up to 2 as EN 16931 says.

Within these bounds a number has at most 22 significant digits, quantity × price at most 41, a
line amount at most 33 and 10,000 of them add up to at most 37, so :mod:`.totals` computes in a
60-digit context without losing a digit (a division is rounded at the 60th) and can neither
divide by zero nor overflow (the base quantity is positive: PEPPOL-EN16931-R121, checked first). Lines and totals computed from numbers in bounds
must again be amounts in bounds (:func:`check_computed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from portal_ubl.domain.errors import Problem
from portal_ubl.domain.model import AllowanceCharge, Invoice
from portal_ubl.domain.totals import Totals

AMOUNT_LIMIT = Decimal(10) ** 12
QUANTITY_LIMIT = Decimal(10) ** 9
PERCENT_LIMIT = Decimal(100)
MAX_DECIMALS = 10

Number = tuple[str, Decimal | None, str]  # (field, value, "amount" | "quantity" | "percent")


def out_of_bounds(value: Decimal, kind: str) -> str | None:
    """Why ``value`` is not a number of ``kind`` an invoice can hold, or None when it is."""
    if not value.is_finite():
        return f"{value} is not a number"
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        return f"at most {MAX_DECIMALS} decimals"
    if kind == "percent":
        return None if 0 <= value <= PERCENT_LIMIT else "a percentage is between 0 and 100"
    if kind == "quantity":
        return None if abs(value) < QUANTITY_LIMIT else "a quantity is under 10^9 (1,000,000,000)"
    return None if abs(value) < AMOUNT_LIMIT else "an amount is under 10^12 (1,000,000,000,000)"


def _numbers(invoice: Invoice) -> Iterator[Number]:
    for i, line in enumerate(invoice.lines):
        where = f"lines.{i}"
        yield f"{where}.quantity", line.quantity, "quantity"
        yield f"{where}.base_quantity", line.base_quantity, "quantity"
        yield f"{where}.unit_price", line.unit_price, "amount"
        yield f"{where}.vat_rate", line.vat_rate, "percent"
        for j, item in enumerate(line.allowances_charges):
            yield from _allowance_charge(f"{where}.allowances_charges.{j}", item)
    for i, item in enumerate(invoice.allowances_charges):
        yield from _allowance_charge(f"allowances_charges.{i}", item)
    yield "prepaid_amount", invoice.prepaid_amount, "amount"
    yield "rounding_amount", invoice.rounding_amount, "amount"
    supplied = invoice.supplied_totals
    if supplied is not None:
        for name in ("line_extension", "tax_exclusive", "tax_total", "tax_inclusive", "payable"):
            yield f"totals.{name}", getattr(supplied, name), "amount"
    for i, stated in enumerate(invoice.stated_vat):
        yield f"vat_breakdown.{i}.rate", stated.rate, "percent"
        yield f"vat_breakdown.{i}.tax", stated.tax, "amount"


def _allowance_charge(where: str, item: AllowanceCharge) -> Iterator[Number]:
    yield f"{where}.amount", item.amount, "amount"
    yield f"{where}.base_amount", item.base_amount, "amount"
    yield f"{where}.percent", item.percent, "percent"
    yield f"{where}.vat_rate", item.vat_rate, "percent"


def check_numbers(invoice: Invoice) -> list[Problem]:
    """Every number of the invoice within its bounds; run before anything computes with them."""
    problems: list[Problem] = []
    for field, value, kind in _numbers(invoice):
        why = out_of_bounds(value, kind) if value is not None else None
        if why is not None:
            problems.append(Problem(field, "UBL-NUM-01", why))
    return problems


_TOTALS = ("line_extension", "tax_exclusive", "tax_total", "tax_inclusive", "payable")


def check_computed(totals: Totals) -> list[Problem]:
    """Line amounts and totals made of numbers in bounds must be amounts in bounds too; only
    the first cause is named (a line over the limit makes every total over it too)."""
    problems = [
        Problem(f"lines.{i}", "UBL-NUM-02", "quantity × price makes an amount over 10^12")
        for i, net in enumerate(totals.line_nets)
        if abs(net) >= AMOUNT_LIMIT
    ]
    over = next((n for n in _TOTALS if abs(getattr(totals, n)) >= AMOUNT_LIMIT), None)
    if over is not None and not problems:
        problems.append(
            Problem(f"totals.{over}", "UBL-NUM-02", "the invoice adds up to an amount over 10^12")
        )
    return problems
