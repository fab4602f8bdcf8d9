"""Numbers no invoice has are refused with 422 naming the field, never 500: a base quantity of
0, quantities, prices and rates beyond what EN 16931 and a real invoice allow, exponents of a
million digits, and the same in a received UBL that passes the UBL 2.1 schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.domain.bounds import check_computed, check_numbers
from portal_ubl.domain.document import ClientSettings, SubmitDocument
from portal_ubl.domain.model import Address, DocumentType, Invoice, Line, Party, VatCategory
from portal_ubl.domain.totals import compute_totals
from portal_ubl.entrypoints.http import create_app
from portal_ubl.samples import make_pdf, sample_data
from services.ubl.tests.fakes import JWT_KEY, fake_service

PDF = make_pdf()
HEADERS = {
    "Authorization": "Bearer "
    + issue_token(Caller(office_id="office-1", user_id="u", role=Role.ADMIN), JWT_KEY)
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    service = fake_service()
    await service.deps.clients.save(ClientSettings("office-1", "client-1", 1, group_id="g"))
    transport = httpx.ASGITransport(app=create_app(service), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ubl") as http:
        yield http


async def _post(client: httpx.AsyncClient, **files: Any) -> httpx.Response:
    form = {"kind": "sales_invoice", "client_id": "client-1"}
    if "data" in files:
        form["data"] = json.dumps(files.pop("data"))
    return await client.post("/v1/documents", data=form, files=files, headers=HEADERS)


def _fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("base_quantity", "0", "PEPPOL-EN16931-R121"),
        ("base_quantity", "-1", "PEPPOL-EN16931-R121"),
        ("quantity", "1e27", "UBL-NUM-01"),
        ("quantity", "1e30", "UBL-NUM-01"),
        ("quantity", 10**100, "UBL-NUM-01"),
        ("quantity", "1e999999", "UBL-NUM-01"),
        ("unit_price", "1e999999", "UBL-NUM-01"),
        ("unit_price", "1e-999999", "UBL-NUM-01"),  # a price of a million digits
        ("vat_rate", "1e30", "UBL-NUM-01"),
        ("vat_rate", "121", "UBL-NUM-01"),
        ("base_quantity", "1e30", "UBL-NUM-01"),
    ],
)
async def test_a_line_number_out_of_bounds_names_its_field(
    client: httpx.AsyncClient, field: str, value: object, rule: str
) -> None:
    data = sample_data(lines=2)
    data["lines"][1][field] = value
    assert _fields(await _post(client, data=data, pdf=("f.pdf", PDF))) == {f"lines.1.{field}": rule}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("prepaid_amount",), "1e30"),
        (("rounding_amount",), "-1e13"),
        (("totals", "payable"), "1e40"),
        (("allowances_charges", 0, "amount"), "1e25"),
        (("allowances_charges", 0, "percent"), "1e6"),
        (("lines", 0, "allowances_charges", 0, "amount"), "1e999999"),
    ],
)
async def test_amounts_and_percentages_out_of_bounds(
    client: httpx.AsyncClient, path: tuple[Any, ...], value: str
) -> None:
    data = sample_data(lines=1, totals={}, allowances_charges=[{"kind": "allowance"}])
    data["allowances_charges"][0].update(amount="1", vat_category="S", vat_rate="21")
    data["lines"][0]["allowances_charges"] = [{"kind": "allowance", "amount": "1"}]
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    field = ".".join(str(p) for p in path)
    assert _fields(await _post(client, data=data, pdf=("f.pdf", PDF))) == {field: "UBL-NUM-01"}


async def test_in_bounds_numbers_whose_product_is_not_are_refused(
    client: httpx.AsyncClient,
) -> None:
    data = sample_data(lines=2)
    data["lines"][0].update(quantity="999999999", unit_price="999999999999")
    assert _fields(await _post(client, data=data, pdf=("f.pdf", PDF))) == {"lines.0": "UBL-NUM-02"}


async def test_the_largest_real_figures_pass(client: httpx.AsyncClient) -> None:
    data = sample_data(lines=1)
    data["lines"][0].update(quantity="1000000", unit_price="0.1234567890", base_quantity="0.001")
    response = await _post(client, data=data, pdf=("f.pdf", PDF))
    assert response.status_code == 201, response.text


def _ubl_with_quantity(quantity: str) -> bytes:
    cmd = SubmitDocument(
        "o", "c", DocumentKind.SALES_INVOICE, data=json.dumps(sample_data(lines=1)).encode()
    )
    ubl = convert(cmd, None).ubl
    assert ubl is not None
    before = b'<cbc:InvoicedQuantity unitCode="HUR">2</cbc:InvoicedQuantity>'
    assert before in ubl
    return ubl.replace(before, before.replace(b">2<", b">" + quantity.encode() + b"<"))


@pytest.mark.parametrize("quantity", ["1" + "0" * 60, "0." + "0" * 59 + "1"])
async def test_a_received_ubl_with_an_absurd_quantity_is_refused(
    client: httpx.AsyncClient, quantity: str
) -> None:
    response = await _post(client, xml=("supplier.xml", _ubl_with_quantity(quantity)))
    assert _fields(response) == {"lines.0.quantity": "UBL-NUM-01"}


async def test_lines_in_bounds_adding_up_to_a_total_out_of_bounds(
    client: httpx.AsyncClient,
) -> None:
    data = sample_data(lines=3)
    for line in data["lines"]:
        line.update(quantity="1", unit_price="900000000000")
    assert _fields(await _post(client, data=data, pdf=("f.pdf", PDF))) == {
        "totals.line_extension": "UBL-NUM-02"
    }


_PLACES = 10
_QUANTITY = st.decimals(
    min_value=Decimal("-999999999.9999999999"),
    max_value=Decimal("999999999.9999999999"),
    places=_PLACES,
)
_PRICE = st.decimals(min_value=0, max_value=Decimal("999999999999.9999999999"), places=_PLACES)
_BASE = st.decimals(
    min_value=Decimal("0.0000000001"), max_value=Decimal("999999999.9999999999"), places=_PLACES
)


@settings(max_examples=25, deadline=None)
@given(quantity=_QUANTITY, price=_PRICE, base=_BASE, rate=st.decimals(0, 100, places=_PLACES))
def test_any_line_in_bounds_computes_or_is_refused_by_name(
    quantity: Decimal, price: Decimal, base: Decimal, rate: Decimal
) -> None:
    line = Line("1", "x", quantity, "C62", price, VatCategory.STANDARD, rate, base_quantity=base)
    party = Party("P", Address("BE"), vat_number="BE0403170701")
    invoice = Invoice(DocumentType.INVOICE, "1", date(2026, 1, 1), party, party, (line,) * 10_000)
    assert check_numbers(invoice) == []
    totals = compute_totals(invoice)  # never raises within the bounds, even 10,000 lines
    over = abs(totals.line_nets[0]) >= 10**12
    expected = [f"lines.{i}" for i in range(10_000)] if over else []
    if not over and abs(totals.line_extension) >= 10**12:
        expected = ["totals.line_extension"]
    assert [p.field for p in check_computed(totals)] == expected
