"""The connections API on the real database: admins only, one office's connections only, secrets
sealed at rest and never answered, every change announced (names only), errors in the reader's
language naming the field."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_delivery.bootstrap import Service
from portal_delivery.entrypoints.http import create_app
from services.delivery.tests.conftest import JWT_KEY

pytestmark = pytest.mark.integration

PASSWORD = "the-sftp-password-nobody-may-read-4711"
TOKEN = "c" * 80
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def auth(office: str = "o1", role: Role = Role.ADMIN, lang: str = "en") -> dict[str, str]:
    caller = Caller(office_id=office, user_id="u", role=role, language=lang)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


@pytest.fixture
async def api(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        yield client


SFTP = {
    "name": "Kantoor",
    "kind": "sftp",
    "settings": {
        "host": "sftp.kantoor.test",
        "port": 2222,
        "username": "portal",
        "host_key": HOST_KEY,
        "base_folder": "in",
    },
    "secrets": {"password": PASSWORD},
}


async def test_a_connection_is_created_shown_without_its_secret_and_sealed_at_rest(
    api: httpx.AsyncClient, service: Service
) -> None:
    created = await api.post("/v1/connections", headers=auth(), json=SFTP)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert PASSWORD not in created.text
    assert created.json()["secrets_set"] == ["password"]
    listed = await api.get("/v1/connections", headers=auth())
    assert [c["name"] for c in listed.json()] == ["Kantoor"]
    assert PASSWORD not in listed.text
    stored = await service.runtime.db["connections"].find_one({})
    assert stored is not None
    assert PASSWORD not in json.dumps(stored, default=str)
    assert stored["secrets"]["password"].startswith("v1:")
    # Announced, names and kinds only.
    outbox = [e async for r in service.runtime.outbox.collection.find({}) for e in r["events"]]
    [announced] = [e for e in outbox if e["type"] == "ConnectionsChanged"]
    body = json.loads(bytes(announced["body"]))
    assert body["payload"]["connections"] == [{"name": "Kantoor", "kind": "sftp"}]
    assert PASSWORD not in bytes(announced["body"]).decode()


async def test_an_edit_without_the_secret_keeps_it_and_needs_the_version(
    api: httpx.AsyncClient, service: Service
) -> None:
    await api.post("/v1/connections", headers=auth(), json=SFTP)
    edit = {**SFTP, "settings": {**SFTP["settings"], "port": 22}, "secrets": {}}
    assert (await api.put("/v1/connections/Kantoor", headers=auth(), json=edit)).status_code == 428
    stale = await api.put(
        "/v1/connections/Kantoor", headers={**auth(), "If-Match": '"7"'}, json=edit
    )
    assert stale.status_code == 412
    saved = await api.put(
        "/v1/connections/Kantoor", headers={**auth(), "If-Match": '"1"'}, json=edit
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["settings"]["port"] == 22
    kept = await service.deps.connections.get("o1", "Kantoor")
    assert kept is not None
    assert kept.secrets == {"password": PASSWORD}


async def test_another_office_and_staff_cannot_see_or_touch_it(api: httpx.AsyncClient) -> None:
    await api.post("/v1/connections", headers=auth(), json=SFTP)
    assert (await api.get("/v1/connections", headers=auth("o2"))).json() == []
    edit = await api.put(
        "/v1/connections/Kantoor", headers={**auth("o2"), "If-Match": '"1"'}, json=SFTP
    )
    assert edit.status_code == 404
    assert (await api.post("/v1/connections/Kantoor/test", headers=auth("o2"))).status_code == 404
    gone = await api.delete("/v1/connections/Kantoor", headers={**auth("o2"), "If-Match": '"1"'})
    assert gone.status_code == 404
    staff = await api.get("/v1/connections", headers=auth(role=Role.STAFF))
    assert staff.status_code == 403
    assert staff.json()["code"] == "connection.admin_only"


async def test_invalid_connections_name_every_field_in_the_readers_language(
    api: httpx.AsyncClient,
) -> None:
    bad = {
        "name": "../x",
        "kind": "sftp",
        "settings": {"host": "not a host", "port": 70000, "username": "portal", "host_key": "nope"},
        "secrets": {},
    }
    answer = await api.post("/v1/connections", headers=auth(lang="nl"), json=bad)
    assert answer.status_code == 422
    problems = {e["field"]: e for e in answer.json()["errors"]}
    assert set(problems) >= {
        "name",
        "settings.host",
        "settings.port",
        "settings.host_key",
        "secrets.password",
    }
    assert "poort" in problems["settings.port"]["message"]
    clearfacts = await api.post(
        "/v1/connections",
        headers=auth(),
        json={"name": "CF", "kind": "clearfacts", "secrets": {"token": "short"}},
    )
    assert clearfacts.status_code == 422
    assert clearfacts.json()["errors"][0]["code"] == "connection.clearfacts_token_invalid"
    fine = await api.post(
        "/v1/connections",
        headers=auth(),
        json={"name": "CF", "kind": "clearfacts", "secrets": {"token": TOKEN}},
    )
    assert fine.status_code == 201
    assert TOKEN not in fine.text


async def test_names_are_unique_per_office_and_a_deletion_is_announced(
    api: httpx.AsyncClient, service: Service
) -> None:
    assert (await api.post("/v1/connections", headers=auth(), json=SFTP)).status_code == 201
    again = await api.post("/v1/connections", headers=auth(), json={**SFTP, "name": "kantoor"})
    assert again.status_code == 409
    assert (await api.post("/v1/connections", headers=auth("o2"), json=SFTP)).status_code == 201
    deleted = await api.delete("/v1/connections/Kantoor", headers={**auth(), "If-Match": '"1"'})
    assert deleted.status_code == 204
    assert (await api.get("/v1/connections", headers=auth())).json() == []
    versions: list[Any] = []
    async for record in service.runtime.outbox.collection.find({}).sort("_id", 1):
        for entry in record["events"]:
            body = json.loads(bytes(entry["body"]))
            if body["office_id"] == "o1":
                versions.append((body["payload"]["version"], body["payload"]["connections"]))
    assert versions == [(1, [{"name": "Kantoor", "kind": "sftp"}]), (2, [])]


async def test_the_email_identity_is_the_platforms_until_the_office_sets_its_own(
    api: httpx.AsyncClient,
) -> None:
    first = (await api.get("/v1/connections/-/email-identity", headers=auth())).json()
    assert first["own"] is False
    bad = await api.put(
        "/v1/connections/-/email-identity",
        headers=auth(),
        json={"sender": "x\r\nBcc: y@z", "display_name": ""},
    )
    assert bad.status_code == 422
    saved = await api.put(
        "/v1/connections/-/email-identity",
        headers=auth(),
        json={"sender": "Docs@Kantoor.test", "display_name": "Kantoor"},
    )
    assert saved.json() == {"sender": "docs@kantoor.test", "display_name": "Kantoor", "own": True}


async def test_a_connection_clients_deliver_through_is_not_deleted(
    api: httpx.AsyncClient, service: Service
) -> None:
    from portal_contracts.clients import OneDriveTarget, SftpTarget
    from portal_delivery.service.planning import remember_client_route
    from services.delivery.tests.samples import snapshot

    assert (await api.post("/v1/connections", headers=auth(), json=SFTP)).status_code == 201
    target = SftpTarget(connection="Kantoor", folder="in")
    await remember_client_route("o1", snapshot(1, target=target), service.deps)
    await remember_client_route("o2", snapshot(1, target=target), service.deps)  # not o1's
    refused = await api.delete(
        "/v1/connections/Kantoor", headers={**auth(lang="fr"), "If-Match": "*"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "connection.in_use"
    assert refused.json()["title"].startswith("1 client(s) envoient encore")
    assert len((await api.get("/v1/connections", headers=auth())).json()) == 1  # kept
    await remember_client_route("o1", snapshot(2, target=OneDriveTarget(folder="in")), service.deps)
    deleted = await api.delete("/v1/connections/Kantoor", headers={**auth(), "If-Match": "*"})
    assert deleted.status_code == 204, deleted.text
