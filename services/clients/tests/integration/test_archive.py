"""Archiving a client through the HTTP API on the real MongoDB-wire server: it leaves the lists
and keeps its data, its e-mail and VAT number stay its own during the hold (nobody else can
take them, the office can restore it as it was), then are free: another office may add the
company, and a restore is refused with a clear reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_clients.domain.model import ARCHIVE_HOLD
from portal_clients.testing.samples import client_form

pytestmark = pytest.mark.integration

STAR = {"If-Match": "*"}


async def _names(api, headers, **params) -> list[str]:
    answer = await api.get("/v1/clients", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return [row["company_name"] for row in answer.json()["items"]]


async def test_an_archived_client_leaves_the_lists_and_comes_back_as_it_was(api, auth) -> None:
    admin = auth()
    kept = await api.post(
        "/v1/clients", json=client_form(900, company={"name": "Kept"}), headers=admin
    )
    gone = await api.post(
        "/v1/clients", json=client_form(901, company={"name": "Gone"}), headers=admin
    )
    gone_id = gone.json()["client_id"]
    assert kept.status_code == gone.status_code == 201

    archived = await api.post(
        f"/v1/clients/{gone_id}/archive", headers={**admin, "If-Match": '"1"'}
    )
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert archived.json()["version"] == 2
    again = await api.post(f"/v1/clients/{gone_id}/archive", headers={**admin, **STAR})
    assert again.json()["version"] == 2  # archiving twice changes nothing

    assert await _names(api, admin) == ["Kept"]
    assert await _names(api, admin, status="not_invited") == ["Kept"]
    assert await _names(api, admin, q="gone") == []
    rows = (await api.get("/v1/clients", params={"archived": "true"}, headers=admin)).json()[
        "items"
    ]
    assert [(r["company_name"], r["actions"]) for r in rows] == [("Gone", ["restore"])]
    assert "archive" in (await api.get("/v1/clients", headers=admin)).json()["items"][0]["actions"]

    edited = await api.put(
        f"/v1/clients/{gone_id}",
        json=client_form(901, company={"name": "Edited"}),
        headers={**admin, **STAR},
    )
    assert edited.status_code == 409
    assert edited.json()["code"] == "client.archived"
    # during the hold its e-mail and VAT number are still its own
    other = auth(office="office-b")
    refused = await api.post("/v1/clients", json=client_form(901), headers=other)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "company.on_platform"
    assert "contact" in refused.json()["errors"][0]["message"]  # what the office can do next

    stale = await api.post(f"/v1/clients/{gone_id}/restore", headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    restored = await api.post(f"/v1/clients/{gone_id}/restore", headers={**admin, **STAR})
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert (body["archived_at"], body["company"]["name"], body["status"]) == (
        None,
        "Gone",
        "not_invited",
    )
    assert await _names(api, admin) == ["Gone", "Kept"]
    hidden = await api.post(
        f"/v1/clients/{kept.json()['client_id']}/archive", headers={**other, **STAR}
    )
    assert hidden.status_code == 404  # another office does not learn it exists
    assert await _names(api, admin) == ["Gone", "Kept"]  # and changed nothing


async def test_after_the_hold_the_company_is_free_and_a_restore_says_why_it_cannot(
    api, auth, service
) -> None:
    admin, other = auth(), auth(office="office-b")
    created = await api.post("/v1/clients", json=client_form(910), headers=admin)
    client_id = created.json()["client_id"]
    await api.post(f"/v1/clients/{client_id}/archive", headers={**admin, **STAR})
    now = service.deps.clock.now()
    assert await service.deps.clients.release_claims(now) == 0  # the hold has not run out
    assert await service.deps.clients.release_claims(now + ARCHIVE_HOLD + timedelta(seconds=1)) == 1
    assert await service.deps.clients.release_claims(now + ARCHIVE_HOLD * 2) == 0  # done once

    availability = await api.post(
        "/v1/clients/availability",
        json={"emails": [client_form(910)["user"]["email"].strip().lower()], "vat_numbers": []},
        headers=other,
    )
    assert set(availability.json()["emails"].values()) == {"available"}
    moved = await api.post("/v1/clients", json=client_form(910), headers=other)
    assert moved.status_code == 201, moved.text  # the company changed offices

    refused = await api.post(
        f"/v1/clients/{client_id}/restore", headers={**admin, **STAR, "Accept-Language": "fr"}
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "client.restore_taken"
    assert {e["field"] for e in problem["errors"]} <= {"user.email", "company.vat_number"}
    assert "ne peut plus être restauré" in problem["title"]
    still = await api.get("/v1/clients", params={"archived": "true"}, headers=admin)
    assert [r["client_id"] for r in still.json()["items"]] == [client_id]  # nothing changed
