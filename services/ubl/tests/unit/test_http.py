"""The HTTP edge against the app wired with fakes (httpx, no server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import Language
from portal_ubl.bootstrap import Service
from portal_ubl.entrypoints.http import create_app
from portal_ubl.samples import make_pdf, sample_data
from services.ubl.tests.fakes import JWT_KEY as KEY
from services.ubl.tests.fakes import FakeClients, FakeDocuments, fake_service

PDF = make_pdf(1)


def _headers(office: str = "office-1", lang: Language = Language.FR) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="u1", role=Role.ADMIN, language=lang)
    return {"Authorization": f"Bearer {issue_token(caller, KEY)}"}


@pytest.fixture
def service() -> Service:
    return fake_service(clients=FakeClients(known=[("office-1", "client-1")]))


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ubl") as http:
        yield http


def _form(data: object, kind: str = "sales_invoice") -> dict[str, str]:
    return {"kind": kind, "client_id": "client-1", "data": json.dumps(data)}


async def test_intake_then_fetch_the_ubl_and_the_pdf(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents",
        data=_form(sample_data(lines=2)),
        files={"pdf": ("facture.pdf", PDF, "application/pdf")},
        headers=_headers(),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["profile"] == "peppol-bis3"
    assert response.headers["location"] == f"/v1/documents/{body['document_id']}"
    ubl = await client.get(f"/v1/documents/{body['document_id']}/ubl", headers=_headers())
    assert ubl.status_code == 200
    assert ubl.content.startswith(b"<?xml")
    assert ubl.headers["x-content-sha256"] == body["ubl"]["sha256"]
    pdf = await client.get(f"/v1/documents/{body['document_id']}/pdf", headers=_headers())
    assert pdf.content == PDF
    again = await client.post(
        "/v1/documents",
        data=_form(sample_data(lines=2)),
        files={"pdf": ("facture.pdf", PDF, "application/pdf")},
        headers=_headers(),
    )
    assert again.json()["document_id"] == body["document_id"]


async def test_another_office_sees_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents",
        data=_form(sample_data(lines=1)),
        files={"pdf": ("f.pdf", PDF, "application/pdf")},
        headers=_headers(),
    )
    document_id = response.json()["document_id"]
    other = await client.get(f"/v1/documents/{document_id}", headers=_headers("office-2"))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"


async def test_bad_input_is_problem_json_with_field_and_rule(client: httpx.AsyncClient) -> None:
    data = sample_data(lines=1)
    data["lines"][0]["vat_category"] = "X"
    response = await client.post(
        "/v1/documents",
        data=_form(data),
        files={"pdf": ("f.pdf", PDF, "application/pdf")},
        headers=_headers(lang=Language.NL),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "document.rejected"
    assert problem["title"] == "Het document kan niet worden aanvaard."
    [error] = problem["errors"]
    assert error["field"] == "lines.0.vat_category"
    assert error["code"] == "BR-CL-17"
    assert error["message"].startswith("Onbekende btw-categorie")


async def test_a_file_that_is_not_a_pdf(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents",
        data=_form(sample_data(lines=1)),
        files={"pdf": ("f.pdf", b"PK\x03\x04zip", "application/pdf")},
        headers=_headers(lang=Language.EN),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "UBL-PDF-02"


async def test_unknown_profile_lists_the_known_ones(client: httpx.AsyncClient) -> None:
    form = _form(sample_data(lines=1)) | {"profile": "sage-bob"}
    response = await client.post(
        "/v1/documents",
        data=form,
        files={"pdf": ("f.pdf", PDF, "application/pdf")},
        headers=_headers(lang=Language.EN),
    )
    assert response.status_code == 422
    assert "ubl-be" in response.json()["title"]


async def test_unknown_kind_and_missing_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents", data=_form({}, kind="receipt"), headers=_headers()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"
    assert (await client.post("/v1/documents", data=_form({}))).status_code == 401


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_a_peppol_xml_purchase_invoice(client: httpx.AsyncClient) -> None:
    from portal_contracts.values import DocumentKind
    from portal_ubl.adapters.conversion import convert
    from portal_ubl.domain.document import SubmitDocument

    cmd = SubmitDocument(
        "x",
        "y",
        DocumentKind.SALES_INVOICE,
        pdf=PDF,
        data=json.dumps(sample_data(lines=2)).encode(),
    )
    ubl = convert(cmd, None).ubl
    assert ubl is not None
    response = await client.post(
        "/v1/documents",
        data={"kind": "purchase_invoice", "client_id": "client-1"},
        files={"xml": ("supplier.xml", ubl, "application/xml")},
        headers=_headers(),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["pdf"]["size"] == len(PDF)  # the PDF inside the supplier's UBL is kept


async def test_an_upload_over_20_mb_is_refused_without_buffering_it(
    client: httpx.AsyncClient,
) -> None:
    from portal_ubl.adapters.pdf import MAX_PDF_BYTES

    big = b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES
    response = await client.post(
        "/v1/documents",
        data=_form(sample_data(lines=1)),
        files={"pdf": ("big.pdf", big, "application/pdf")},
        headers=_headers(lang=Language.EN),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "pdf",
        "code": "UBL-PDF-01",
        "message": "The PDF is over 20 MB. (file over 20 MB)",
    }


async def test_staff_reach_only_the_clients_of_their_groups() -> None:
    from portal_ubl.domain.document import ClientSettings

    service = fake_service()
    await service.deps.clients.save(ClientSettings("office-1", "client-1", 1, group_id="team-a"))
    app = create_app(service)

    def staff(*groups: str) -> dict[str, str]:
        caller = Caller(office_id="office-1", user_id="s", role=Role.STAFF, groups=groups)
        return {"Authorization": f"Bearer {issue_token(caller, KEY)}"}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ubl"
    ) as http:
        files = {"pdf": ("f.pdf", PDF, "application/pdf")}
        denied = await http.post(
            "/v1/documents", data=_form(sample_data(lines=1)), files=files, headers=staff("team-b")
        )
        assert denied.status_code == 422
        assert denied.json()["errors"][0]["field"] == "client_id"
        allowed = await http.post(
            "/v1/documents", data=_form(sample_data(lines=1)), files=files, headers=staff("team-a")
        )
        assert allowed.status_code == 201
        document_id = allowed.json()["document_id"]
        assert (
            await http.get(f"/v1/documents/{document_id}", headers=staff("team-b"))
        ).status_code == 404
        assert (
            await http.get(f"/v1/documents/{document_id}", headers=staff("team-a"))
        ).status_code == 200
        unknown = _form(sample_data(lines=1)) | {"client_id": "never-heard-of"}
        assert (
            await http.post("/v1/documents", data=unknown, files=files, headers=staff("team-a"))
        ).status_code == 422


async def test_staff_act_on_everyone_s_clients_through_the_api() -> None:
    """The HTTP edge passes the one rule (Caller.visible_groups): it used to pass the token's
    groups alone, so a staff member could not submit for an "Everyone" client."""
    from portal_ubl.domain.document import ClientSettings

    service = fake_service()
    await service.deps.clients.save(ClientSettings("office-1", "client-1", 1, group_id="everyone"))
    caller = Caller(office_id="office-1", user_id="s", role=Role.STAFF, groups=("team-b",))
    headers = {"Authorization": f"Bearer {issue_token(caller, KEY)}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(service)), base_url="http://ubl"
    ) as http:
        files = {"pdf": ("f.pdf", PDF, "application/pdf")}
        submitted = await http.post(
            "/v1/documents", data=_form(sample_data(lines=1)), files=files, headers=headers
        )
        assert submitted.status_code == 201, submitted.text
        document_id = submitted.json()["document_id"]
        shown = await http.get(f"/v1/documents/{document_id}", headers=headers)
        assert shown.status_code == 200


async def _upload(
    client: httpx.AsyncClient, filename: str, kind: str = "misc_document", **fields: str
) -> str:
    """A multipart body written by hand, so the file name arrives byte for byte (as curl sends
    it: a quote escaped with a backslash; httpx would percent-encode it)."""
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in {"kind": kind, "client_id": "client-1", **fields}.items()
    ]
    escaped = filename.replace("\\", "\\\\").replace('"', '\\"').encode()
    parts.append(
        b'--B\r\nContent-Disposition: form-data; name="pdf"; filename="' + escaped + b'"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--B--\r\n"
    )
    response = await client.post(
        "/v1/documents",
        content=b"".join(parts),
        headers={**_headers(), "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 201, response.text
    document_id: str = response.json()["document_id"]
    return document_id


async def test_a_unicode_file_name_is_downloaded_with_an_rfc_6266_header(
    client: httpx.AsyncClient,
) -> None:
    document_id = await _upload(client, "Facture – janvier.pdf")
    for _ in range(2):  # every download, not only the first
        pdf = await client.get(f"/v1/documents/{document_id}/pdf", headers=_headers())
        assert pdf.status_code == 200
        assert pdf.content == PDF
        assert pdf.headers["content-disposition"] == (
            'attachment; filename="Facture _ janvier.pdf"; '
            "filename*=UTF-8''Facture%20%E2%80%93%20janvier.pdf"
        )


async def test_quotes_in_a_file_name_cannot_add_header_parameters(
    client: httpx.AsyncClient,
) -> None:
    document_id = await _upload(client, "a\"; filename*=UTF-8''evil.exe; x=\".pdf")
    pdf = await client.get(f"/v1/documents/{document_id}/pdf", headers=_headers())
    header = pdf.headers["content-disposition"]
    assert header == "attachment; filename=\"a_; filename_=UTF-8''evil.exe; x=_.pdf\""
    assert header.count('"') == 2


async def test_a_path_in_a_file_name_is_stored_as_its_last_part_everywhere(
    client: httpx.AsyncClient, service: Service
) -> None:
    document_id = await _upload(client, "../../etc/passwd")
    document = (await client.get(f"/v1/documents/{document_id}", headers=_headers())).json()
    assert document["pdf"]["filename"] == "passwd.pdf"
    pdf = await client.get(f"/v1/documents/{document_id}/pdf", headers=_headers())
    assert pdf.headers["content-disposition"] == 'attachment; filename="passwd.pdf"'
    metadata = await client.get(f"/v1/documents/{document_id}/metadata", headers=_headers())
    assert metadata.json()["filename"] == "passwd.pdf"
    assert isinstance(service.deps.documents, FakeDocuments)
    [event] = service.deps.documents.outbox
    assert event.payload.pdf is not None
    assert event.payload.pdf.filename == "passwd.pdf"


async def test_the_pdf_embedded_in_the_ubl_keeps_a_safe_name(client: httpx.AsyncClient) -> None:
    data = json.dumps(sample_data(lines=1))
    document_id = await _upload(client, "..\\..\\Windows\\<evil>", "sales_invoice", data=data)
    ubl = await client.get(f"/v1/documents/{document_id}/ubl", headers=_headers())
    assert b'filename="_evil_.pdf"' in ubl.content


async def test_a_ubl_we_wrote_wrong_is_our_500_with_the_schema_errors() -> None:
    from dataclasses import replace

    from portal_ubl.adapters.conversion import convert
    from portal_ubl.domain.document import ClientSettings, Converted, SubmitDocument
    from portal_ubl.domain.errors import Problem

    def broken(cmd: SubmitDocument, client: ClientSettings | None) -> Converted:
        problem = Problem("ubl:line 3", "UBL-XSD", "Element 'x': not expected")
        return replace(convert(cmd, client), xsd_problems=[problem])

    service = fake_service(clients=FakeClients(known=[("office-1", "client-1")]), convert=broken)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://ubl") as http:
        response = await http.post(
            "/v1/documents",
            data=_form(sample_data(lines=1)),
            files={"pdf": ("f.pdf", PDF, "application/pdf")},
            headers=_headers(lang=Language.EN),
        )
    assert response.status_code == 500
    assert response.json()["code"] == "document.invalid_output"
    assert response.json()["errors"] == [
        {"field": "ubl:line 3", "code": "UBL-XSD", "message": "Element 'x': not expected"}
    ]
