"""From factur-x's EN 16931 dictionary (BT-/BG- keys, the same for UBL and CII) to the canonical
invoice. The sender's totals are kept as *supplied* totals, so ours are checked against them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from portal_ubl.domain import model as m
from portal_ubl.domain.errors import Problem, RejectedDocument
from portal_ubl.domain.rules import normalise_structured_reference

Data = dict[str, Any]


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def dec(self, value: Any, field: str, default: Decimal | None = None) -> Decimal | None:
        if value is None or value == "":
            return default
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.problems.append(Problem(field, "UBL-DATA-03", f"not a number: {value!r}"))
            return default

    def category(self, value: Any, field: str) -> m.VatCategory:
        try:
            return m.VatCategory(value)
        except ValueError:
            self.problems.append(
                Problem(
                    field,
                    "BR-CL-17",
                    f"unknown VAT category: {value!r}; use S, Z, E, AE, K, G or O",
                )
            )
            return m.VatCategory.STANDARD


def invoice_from_bt(data: Data) -> m.Invoice:
    r = _Reader()
    type_code = str(data.get("BT-3", "380"))
    credit = type_code in {"381", "261", "262", "296", "308", "532"}
    lines = tuple(_line(r, i, line) for i, line in enumerate(data.get("BG-25", [])))
    exemptions = {
        r.category(v.get("BT-118"), f"vat_breakdown.{i}.category"): m.Exemption(
            v.get("BT-121"), v.get("BT-120")
        )
        for i, v in enumerate(data.get("BG-23", []))
        if v.get("BT-120") or v.get("BT-121")
    }
    reference = data.get("BT-83")
    structured = normalise_structured_reference(reference) if reference else None
    invoice = m.Invoice(
        type=m.DocumentType.CREDIT_NOTE if credit else m.DocumentType.INVOICE,
        number=str(data.get("BT-1", "")),
        issue_date=data.get("BT-2") or date.today(),
        due_date=data.get("BT-9"),
        currency=data.get("BT-5", "EUR"),
        seller=_party(data.get("BG-4", {})),
        buyer=_party(data.get("BG-7", {})),
        buyer_reference=data.get("BT-10"),
        order_reference=data.get("BT-13"),
        notes=tuple(n["BT-22"] for n in data.get("BG-1", []) if n.get("BT-22")),
        payment_terms=data.get("BT-20"),
        lines=lines,
        allowances_charges=tuple(
            _ac(r, f"allowances_charges.{i}", item, charge)
            for charge, key in ((False, "BG-20"), (True, "BG-21"))
            for i, item in enumerate(data.get(key, []))
        ),
        payment_means=(
            m.PaymentMeans(
                code=str(data.get("BT-81", "30")),
                iban=data.get("BT-84"),
                bic=data.get("BT-86"),
                account_name=data.get("BT-85"),
                structured_reference=structured,
                reference=None if structured else reference,
            ),
        )
        if data.get("BT-81")
        else (),
        period=m.Period(data.get("BT-73"), data.get("BT-74"))
        if data.get("BT-73") or data.get("BT-74")
        else None,
        delivery=_delivery(data),
        billing_references=tuple(
            m.BillingReference(b["BT-25"], b.get("BT-26"))
            for b in data.get("BG-3", [])
            if b.get("BT-25")
        ),
        attachments=tuple(
            m.Attachment(
                a.get("BT-122", f"ATT-{i}"),
                a.get("BT-125-2") or f"attachment-{i}",
                a.get("BT-125-1", "application/octet-stream"),
                a["BT-125"],
                a.get("BT-123"),
            )
            for i, a in enumerate(data.get("BG-24", []))
            if a.get("BT-125")
        ),
        exemptions=exemptions,
        stated_vat=tuple(
            m.StatedVat(
                r.category(v.get("BT-118"), f"vat_breakdown.{i}.category"),
                r.dec(v.get("BT-119"), f"vat_breakdown.{i}.rate", Decimal(0)) or Decimal(0),
                r.dec(v.get("BT-117"), f"vat_breakdown.{i}.tax", Decimal(0)) or Decimal(0),
            )
            for i, v in enumerate(data.get("BG-23", []))
        ),
        prepaid_amount=r.dec(data.get("BT-113"), "totals.prepaid", Decimal(0)) or Decimal(0),
        rounding_amount=r.dec(data.get("BT-114"), "totals.rounding", Decimal(0)) or Decimal(0),
        supplied_totals=m.SuppliedTotals(
            line_extension=r.dec(data.get("BT-106"), "totals.line_extension"),
            tax_exclusive=r.dec(data.get("BT-109"), "totals.tax_exclusive"),
            tax_total=r.dec(data.get("BT-110"), "totals.tax_total"),
            tax_inclusive=r.dec(data.get("BT-112"), "totals.tax_inclusive"),
            payable=r.dec(data.get("BT-115"), "totals.payable"),
        ),
    )
    if r.problems:
        raise RejectedDocument(r.problems)
    return invoice


def _line(r: _Reader, i: int, line: Data) -> m.Line:
    where = f"lines.{i}"
    notes = [n.get("BT-127") for n in line.get("BT-127-00", []) if n.get("BT-127")]
    return m.Line(
        id=str(line.get("BT-126", i + 1)),
        name=line.get("BT-153") or line.get("BT-154") or "-",
        description=line.get("BT-154"),
        quantity=r.dec(line.get("BT-129"), f"{where}.quantity", Decimal(0)) or Decimal(0),
        unit_code=line.get("BT-130") or "C62",
        unit_price=r.dec(line.get("BT-146"), f"{where}.unit_price", Decimal(0)) or Decimal(0),
        base_quantity=r.dec(line.get("BT-149"), f"{where}.base_quantity", Decimal(1)) or Decimal(1),
        vat_category=r.category(line.get("BT-151"), f"{where}.vat_category"),
        vat_rate=r.dec(line.get("BT-152"), f"{where}.vat_rate", Decimal(0)) or Decimal(0),
        ledger_account=line.get("BT-133"),
        note="\n".join(notes) or None,
        period=m.Period(line.get("BT-134"), line.get("BT-135"))
        if line.get("BT-134") or line.get("BT-135")
        else None,
        seller_item_id=line.get("BT-155"),
        allowances_charges=tuple(
            _ac(r, f"{where}.allowances_charges.{j}", item, charge)
            for charge, key in ((False, "BG-27"), (True, "BG-28"))
            for j, item in enumerate(line.get(key, []))
        ),
    )


def _ac(r: _Reader, where: str, item: Data, charge: bool) -> m.AllowanceCharge:
    category = item.get("vat_category_code")
    return m.AllowanceCharge(
        is_charge=charge,
        amount=r.dec(item.get("amount"), f"{where}.amount"),
        percent=None,  # the stated amount wins; the rate is only how the sender got to it
        base_amount=None,
        reason=item.get("reason"),
        reason_code=item.get("reason_code"),
        vat_category=r.category(category, f"{where}.vat_category") if category else None,
        vat_rate=r.dec(item.get("vat_rate"), f"{where}.vat_rate"),
    )


def _address(p: Data) -> m.Address:
    return m.Address(
        country_code=p.get("country_code") or "BE",
        street=p.get("addr_l1"),
        additional_street=p.get("addr_l2"),
        city=p.get("city"),
        postal_zone=p.get("postcode"),
        subdivision=p.get("country_subdivision"),
    )


def _party(p: Data) -> m.Party:
    legal = p.get("legal_identifier")
    scheme = p.get("einvoicing_addr_schemeid")
    contact = (p.get("contacts") or [{}])[0]
    return m.Party(
        name=p.get("name") or p.get("biz_name") or "-",
        address=_address(p),
        vat_number=p.get("vat_identifier"),
        enterprise_number=legal if p.get("legal_identifier_schemeid") == "0208" else None,
        peppol_id=f"{scheme}:{p['einvoicing_addr']}"
        if scheme and p.get("einvoicing_addr")
        else None,
        email=contact.get("email"),
        contact_name=contact.get("name"),
        telephone=contact.get("phone"),
    )


def _delivery(data: Data) -> m.Delivery | None:
    place = data.get("BG-13") or {}
    if not place and not data.get("BT-72"):
        return None
    has_address = any(place.get(k) for k in ("country_code", "city", "addr_l1"))
    return m.Delivery(
        date=data.get("BT-72"),
        address=_address(place) if has_address else None,
        party_name=place.get("name"),
        location_id=data.get("BT-71"),
    )
