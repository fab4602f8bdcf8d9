"""Issue 16 point 1b: every body is bounded while it streams (Content-Length checked up front,
chunked bodies counted as they come), 413 problem+json as soon as the bound is passed; the
documented maximum of each upload still fits. Table: every body route of every service."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal_importer.config import Settings as ImporterSettings
from portal_ubl.adapters.pdf import MAX_PDF_BYTES
from portal_ubl.adapters.safe_xml import MAX_XML_BYTES
from portal_ubl.samples import make_pdf, sample_data
from tests.hardening.apps import SERVICES, bearer
from tests.hardening.test_auth_before_body import PUBLIC
from tests.hardening.wire import Apps, MiB, body_kind, chunks, concrete, multipart, routes, send

JSON_BOUND = 512 * 1024  # "a few hundred KB": no JSON route reads more unless declared below
IMPORTER_MAX_UPLOAD_BYTES = ImporterSettings.model_fields["max_upload_bytes"].default


def rich_intake(lines: int = 10_000) -> bytes:
    """An intake at the documented maximum of lines, each with every line field filled."""
    data = sample_data(lines)
    for i, line in enumerate(data["lines"]):
        line.update(
            description=f"Prestation de conseil comptable et fiscal — dossier 2026/{i:05d}",
            ledger_account="700000",
            note="Selon offre du 12/12/2025, réf. OF-2025-0456",
            period={"start": "2026-01-01", "end": "2026-01-31"},
            item_id=f"SKU-{i:09d}",
            allowances_charges=[
                {"kind": "allowance", "amount": "1.00", "reason": "Remise", "reason_code": "95"}
            ],
        )
    return json.dumps(data, ensure_ascii=False).encode()


INTAKE = rich_intake()
INTAKE_DATA_BOUND = 8 * MiB  # the `data` field's bound: above the 10,000-line intake measured
# The documented maximum of each route that takes more than a JSON form.
DOCUMENTED = {
    ("importer", "POST", "/v1/imports"): IMPORTER_MAX_UPLOAD_BYTES,
    ("importer", "POST", "/v1/imports/{import_id}/versions"): IMPORTER_MAX_UPLOAD_BYTES,
    ("ubl", "POST", "/v1/documents"): MAX_PDF_BYTES + MAX_XML_BYTES + INTAKE_DATA_BOUND,
    # 20,000 e-mails of RFC 5321's 254 characters and 20,000 VAT numbers (the importer's batch)
    ("clients", "POST", "/v1/clients/availability"): 20_000 * (254 + 3) + 20_000 * 17,
}


def _body_routes(service: str, app: Any) -> list[tuple[str, str]]:
    """Routes taking a body with the portal's JWT. Delivery's /agent/v1 routes take an agent's
    key instead and refuse a JWT before reading any body (test_auth_before_body covers them)."""
    return [
        (m, t)
        for m, t in routes(app)
        if m in {"POST", "PUT", "PATCH"} and (m, t) not in PUBLIC and not t.startswith("/agent/")
    ] + [(m, t) for m, t in routes(app) if m == "POST" and (m, t) in PUBLIC]


@pytest.mark.parametrize("service", SERVICES)
async def test_a_chunked_body_is_cut_at_the_routes_bound(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    wrong = []
    for method, template in _body_routes(service, app):
        bound = DOCUMENTED.get((service, method, template), JSON_BOUND)
        kind = body_kind(app, method, template)
        if kind == "form":
            content, ctype = (
                multipart(bound + 16 * MiB),
                "multipart/form-data; boundary=edge-boundary",
            )
        else:
            content, ctype = chunks(bound + 16 * MiB, size=64 * 1024), "application/json"
        sent = await send(
            app,
            method,
            concrete(template),
            content=content,
            headers={**bearer(), "content-type": ctype},
        )
        # Documented uploads may take a margin for the multipart framing, JSON at most 64 KiB.
        slack = 2 * MiB if (service, method, template) in DOCUMENTED else 64 * 1024
        if kind is None:  # the route reads no body: none of it may be read
            outcome: tuple[Any, ...] = (sent.read, sent.status < 500)
            expected: tuple[Any, ...] = (0, True)
        else:
            outcome = (sent.status, sent.code, sent.read <= bound + slack)
            expected = (413, "body.too_large", True)
        if outcome != expected:
            wrong.append(f"{method} {template} ({kind}): {outcome} after {sent.read} bytes")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("service", SERVICES)
async def test_a_declared_content_length_over_the_bound_reads_nothing(
    apps: Apps, service: str
) -> None:
    app = await apps.get(service)
    wrong = []
    for method, template in _body_routes(service, app):
        bound = DOCUMENTED.get((service, method, template), JSON_BOUND)
        sent = await send(
            app,
            method,
            concrete(template),
            content=chunks(bound + 16 * MiB),
            headers={
                **bearer(),
                "content-type": "application/json",
                "content-length": str(bound + 16 * MiB),
            },
        )
        if (sent.status, sent.read) != (413, 0):
            wrong.append(f"{method} {template}: {sent.status} {sent.code} after {sent.read} bytes")
    assert not wrong, "\n".join(wrong)


async def test_the_413_says_the_bound_in_the_callers_language(apps: Apps) -> None:
    app = await apps.get("clients")
    titles = set()
    for lang in ("fr", "nl", "en"):
        sent = await send(
            app,
            "POST",
            "/v1/clients",
            content=chunks(2 * MiB),
            headers={**bearer(language=lang), "content-type": "application/json"},
        )
        assert (sent.status, sent.code) == (413, "body.too_large")
        assert "KB" in sent.problem["title"] or "Ko" in sent.problem["title"]
        titles.add(sent.problem["title"])
    assert len(titles) == 3, titles


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_importer_workbook_of_the_documented_maximum_passes(
    apps: Apps, chunked: bool
) -> None:
    app = await apps.get("importer")
    workbook = b"\0" * IMPORTER_MAX_UPLOAD_BYTES
    if chunked:
        body: Any = {"files": {"file": ("big.xlsx", _Lazy(workbook))}}
    else:
        body = {"files": {"file": ("big.xlsx", workbook)}}
    sent = await send(app, "POST", "/v1/imports", headers=bearer(), **body)
    assert sent.code not in {"body.too_large", "file.too_large"}, sent.response.text
    assert sent.read >= IMPORTER_MAX_UPLOAD_BYTES


async def test_an_importer_workbook_over_the_maximum_is_refused(apps: Apps) -> None:
    app = await apps.get("importer")
    workbook = _Lazy(b"\0" * (IMPORTER_MAX_UPLOAD_BYTES + 4 * MiB))  # chunked, no length
    sent = await send(
        app, "POST", "/v1/imports", headers=bearer(), files={"file": ("big.xlsx", workbook)}
    )
    assert sent.status == 413
    assert sent.read <= IMPORTER_MAX_UPLOAD_BYTES + 2 * MiB


async def test_a_ubl_intake_of_10000_lines_is_accepted(apps: Apps) -> None:
    app = await apps.get("ubl")
    assert 4 * MiB < len(INTAKE) < INTAKE_DATA_BOUND  # 4.7 MB
    sent = await send(
        app,
        "POST",
        "/v1/documents",
        headers=bearer(),
        data={"kind": "sales_invoice", "client_id": "c1", "data": INTAKE.decode()},
        files={"pdf": ("invoice.pdf", make_pdf(1), "application/pdf")},
    )
    assert sent.status == 201, sent.response.text[:500]


async def test_a_ubl_pdf_and_xml_of_their_documented_maximum_pass_the_edge(apps: Apps) -> None:
    app = await apps.get("ubl")
    sent = await send(
        app,
        "POST",
        "/v1/documents",
        headers=bearer(),
        data={"kind": "sales_invoice", "client_id": "c1"},
        files={
            "pdf": ("big.pdf", b"%PDF-1.4\n" + b"\0" * (MAX_PDF_BYTES - 9), "application/pdf"),
            "xml": ("big.xml", b"<a/>" + b" " * (MAX_XML_BYTES - 4), "application/xml"),
        },
    )
    assert sent.read >= MAX_PDF_BYTES + MAX_XML_BYTES
    assert (sent.status, sent.code) == (422, "document.rejected"), sent.response.text[:500]


async def test_the_importers_availability_batch_fits(apps: Apps) -> None:
    app = await apps.get("clients")
    body = {
        "emails": [f"{i:06d}{'x' * 230}@example-office.be" for i in range(20_000)],
        "vat_numbers": [f"BE0{i:09d}" for i in range(20_000)],
    }
    sent = await send(app, "POST", "/v1/clients/availability", headers=bearer(), json=body)
    assert sent.status == 200, sent.response.text[:300]
    assert len(sent.response.json()["emails"]) == 20_000


class _Lazy:
    """A file without a length: httpx sends it chunked."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        piece = bytes(self.data[self.at : end])
        self.at += len(piece)
        return piece
