"""Tenant isolation on every endpoint: another office's records answer 404 (or are simply not
there) and nothing of theirs changes or leaks."""

from __future__ import annotations

import pytest

from portal_clients.testing.samples import client_form

pytestmark = pytest.mark.integration


async def test_every_endpoint_keeps_offices_apart(api, auth) -> None:
    a, b = auth(), auth(office="office-b")
    group = (await api.post("/v1/groups", json={"name": "Gent"}, headers=a)).json()
    client = (
        await api.post("/v1/clients", json=client_form(1, group_id=group["group_id"]), headers=a)
    ).json()
    settings_body = {"enabled_transfer_methods": ["email"]}
    assert (
        await api.put("/v1/settings", json=settings_body, headers={**a, "If-Match": '"0"'})
    ).status_code == 200
    staff_put = {"user_ids": ["spy"]}
    client_url = f"/v1/clients/{client['client_id']}"
    group_url = f"/v1/groups/{group['group_id']}"

    assert (await api.get(client_url, headers=b)).status_code == 404
    assert (
        await api.put(client_url, json=client_form(1), headers={**b, "If-Match": '"1"'})
    ).status_code == 404
    assert (await api.get("/v1/clients", headers=b)).json()["items"] == []
    assert [g["group_id"] for g in (await api.get("/v1/groups", headers=b)).json()] == ["everyone"]
    assert (
        await api.patch(group_url, json={"name": "X"}, headers={**b, "If-Match": '"1"'})
    ).status_code == 404
    assert (
        await api.put(f"{group_url}/staff", json=staff_put, headers={**b, "If-Match": '"1"'})
    ).status_code == 404
    assert (await api.delete(group_url, headers=b)).status_code == 404
    own_settings = (await api.get("/v1/settings", headers=b)).json()
    assert own_settings["version"] == 0
    assert own_settings["settings"]["enabled_transfer_methods"] == ["manual"]
    foreign_group = await api.post(
        "/v1/clients", json=client_form(2, group_id=group["group_id"]), headers=b
    )
    assert foreign_group.status_code == 422  # another office's group does not exist here
    assert foreign_group.json()["errors"][0]["code"] == "group.unknown"
    availability = await api.post(
        "/v1/clients/availability",
        json={
            "emails": [client["user"]["email"]],
            "vat_numbers": [client["company"]["vat_number"]],
        },
        headers=b,
    )
    assert availability.json() == {  # cannot be used, and nothing more about whose it is
        "emails": {client["user"]["email"]: "unavailable"},
        "vat_numbers": {client["company"]["vat_number"]: "unavailable"},
    }

    assert (await api.get(client_url, headers=a)).json() == client
    groups = (await api.get("/v1/groups", headers=a)).json()
    assert next(g for g in groups if g["group_id"] == group["group_id"]) == group


async def test_no_token_or_a_bad_token_is_refused(api, auth) -> None:
    assert (await api.get("/v1/clients")).status_code == 401
    bad = {"Authorization": "Bearer not-a-jwt"}
    response = await api.get("/v1/clients", headers=bad)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
