"""Documents are taken only for a client of the caller's office that the caller may see, known
from ClientCreated/ClientUpdated; ids are checked by shape first. Whatever the reason a client
is not one of the caller's (another office's, made up, another group's, not heard of yet), the
answer is the same 422 naming ``client_id``, and nothing is stored or announced."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_ubl.bootstrap import Service
from portal_ubl.domain.document import ClientSettings
from portal_ubl.entrypoints.http import create_app
from portal_ubl.samples import make_pdf, sample_data
from services.ubl.tests.fakes import JWT_KEY, FakeBlobStore, FakeDocuments, fake_service

PDF = make_pdf()


def _bearer(office: str = "office-1", role: Role = Role.ADMIN, *groups: str) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="u", role=role, groups=groups)
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


@pytest.fixture
async def service() -> Service:
    service = fake_service()
    await service.deps.clients.save(ClientSettings("office-1", "client-1", 1, group_id="team-a"))
    await service.deps.clients.save(ClientSettings("office-2", "client-2", 1, group_id="team-a"))
    return service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ubl") as http:
        yield http


async def _submit(
    client: httpx.AsyncClient, client_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/v1/documents",
        data={
            "kind": "sales_invoice",
            "client_id": client_id,
            "data": json.dumps(sample_data(lines=1)),
        },
        files={"pdf": ("f.pdf", PDF, "application/pdf")},
        headers=headers or _bearer(),
    )


def _nothing_stored(service: Service) -> None:
    assert isinstance(service.deps.documents, FakeDocuments)
    assert service.deps.documents.documents == {}
    assert service.deps.documents.outbox == []
    assert isinstance(service.deps.blobs, FakeBlobStore)
    assert service.deps.blobs.puts == 0


@pytest.mark.parametrize(
    ("client_id", "headers"),
    [
        ("client-2", None),  # another office's client
        ("made-up", None),
        ("client-1", _bearer("office-1", Role.STAFF, "team-b")),  # not one of the staff's groups
    ],
)
async def test_a_client_that_is_not_the_callers_is_refused_the_same_way(
    client: httpx.AsyncClient, service: Service, client_id: str, headers: dict[str, str] | None
) -> None:
    response = await _submit(client, client_id, headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"  # a client created a moment ago may lag
    problem = response.json()
    assert problem["code"] == "client.unknown"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("client_id", "client.unknown")]
    _nothing_stored(service)


@pytest.mark.parametrize("client_id", ["x" * 10_000, "<script>\r\n", "a:b", "../c", "", " c1"])
async def test_a_client_id_of_the_wrong_shape_is_refused_before_any_lookup(
    client: httpx.AsyncClient, service: Service, client_id: str
) -> None:
    response = await _submit(client, client_id)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["client_id"]
    assert "retry-after" not in response.headers
    _nothing_stored(service)


async def test_a_client_of_the_callers_office_and_group_is_taken(
    client: httpx.AsyncClient,
) -> None:
    staff = _bearer("office-1", Role.STAFF, "team-a")
    assert (await _submit(client, "client-1", staff)).status_code == 201
    assert (await _submit(client, "client-2", _bearer("office-2"))).status_code == 201


async def test_a_client_heard_of_late_is_taken_when_the_caller_retries(
    client: httpx.AsyncClient, service: Service
) -> None:
    assert (await _submit(client, "client-new")).status_code == 422
    await service.deps.clients.save(ClientSettings("office-1", "client-new", 1, group_id="g"))
    assert (await _submit(client, "client-new")).status_code == 201


async def test_an_archived_client_takes_no_new_documents_until_restored(
    client: httpx.AsyncClient, service: Service
) -> None:
    archived = ClientSettings("office-1", "client-1", 2, group_id="team-a", archived=True)
    await service.deps.clients.save(archived)
    refused = await _submit(client, "client-1", {**_bearer(), "Accept-Language": "fr"})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "client.archived"
    assert "restaurez-le" in problem["title"]  # what to do, in the caller's language
    _nothing_stored(service)
    restored = ClientSettings("office-1", "client-1", 3, group_id="team-a")
    await service.deps.clients.save(restored)
    assert (await _submit(client, "client-1")).status_code == 201
