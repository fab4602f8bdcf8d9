"""Issue 16 (clients): the availability check tells an office only what it needs to fix its own
rows, is rate-limited per office and logged; staff ids of a group are refused by shape."""

from __future__ import annotations

import logging

import pytest

from portal_clients.testing.samples import client_form

pytestmark = pytest.mark.integration


async def _create(api, headers, n: int, **kwargs) -> dict:
    response = await api.post("/v1/clients", json=client_form(n, **kwargs), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_availability_says_nothing_of_other_offices_or_hidden_groups(api, auth) -> None:
    admin = auth()
    gent = (await api.post("/v1/groups", json={"name": "Gent"}, headers=admin)).json()
    brugge = (await api.post("/v1/groups", json={"name": "Brugge"}, headers=admin)).json()
    mine = await _create(api, admin, 1, group_id=gent["group_id"])
    hidden = await _create(api, admin, 2, group_id=brugge["group_id"])
    elsewhere = await _create(api, auth(office="office-b"), 3)
    staff = auth(role="staff", groups=(gent["group_id"],), user="staff-gent")
    emails = [c["user"]["email"] for c in (mine, hidden, elsewhere)] + ["free@x.be", "nope"]
    vats = [c["company"]["vat_number"] for c in (mine, hidden, elsewhere)]
    answer = await api.post(
        "/v1/clients/availability", json={"emails": emails, "vat_numbers": vats}, headers=staff
    )
    assert answer.status_code == 200, answer.text
    assert list(answer.json()["emails"].values()) == [
        "taken_in_office",
        "unavailable",  # a client of a group this staff member does not see
        "unavailable",  # another office's client: "cannot be used", nothing more
        "available",
        "invalid",
    ]
    assert list(answer.json()["vat_numbers"].values()) == [
        "taken_in_office",
        "unavailable",
        "unavailable",
    ]
    as_admin = await api.post(
        "/v1/clients/availability", json={"emails": emails[:3]}, headers=admin
    )
    assert list(as_admin.json()["emails"].values()) == [
        "taken_in_office",
        "taken_in_office",
        "unavailable",
    ]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"availability_per_hour": 25_000})


async def test_availability_is_rate_limited_per_office_and_logged(api, auth, caplog) -> None:
    caplog.set_level(logging.INFO, logger="portal_clients")
    emails = [f"bulk{i}@x.be" for i in range(20_000)]  # the most the importer sends at once
    first = await api.post("/v1/clients/availability", json={"emails": emails}, headers=auth())
    assert first.status_code == 200
    assert len(first.json()["emails"]) == 20_000
    again = await api.post(
        "/v1/clients/availability", json={"emails": emails[:10_000]}, headers=auth(lang="fr")
    )
    assert again.status_code == 429
    assert again.headers["content-type"] == "application/problem+json"
    assert 0 < int(again.headers["Retry-After"]) <= 3600
    assert again.json()["code"] == "availability.rate_limited"
    assert "réessayez" in again.json()["title"]
    other = await api.post(
        "/v1/clients/availability", json={"emails": emails[:10]}, headers=auth(office="office-b")
    )
    assert other.status_code == 200  # the allowance is the office's
    logged = [r.getMessage() for r in caplog.records if "availability check" in r.getMessage()]
    assert any("office-a" in m and "accountant-1" in m and "20000" in m for m in logged)


@pytest.mark.parametrize("bad", ["", "../x", "a\r\nb", "x" * 10_000, "staff one", "a/b"])
async def test_group_staff_ids_are_refused_by_shape_naming_the_field(api, auth, bad) -> None:
    admin = auth(lang="nl")
    group = (await api.post("/v1/groups", json={"name": "Gent"}, headers=admin)).json()
    url = f"/v1/groups/{group['group_id']}/staff"
    refused = await api.put(
        url, json={"user_ids": ["staff-1", bad]}, headers={**admin, "If-Match": '"1"'}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    [error] = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("user_ids.1", "staff.invalid_id")
    assert "medewerker" in error["message"]  # Dutch, like the other errors
    unchanged = (await api.get("/v1/groups", headers=admin)).json()
    assert next(g for g in unchanged if g["group_id"] == group["group_id"])["staff"] == []
    accepted = await api.put(
        url,
        json={"user_ids": ["staff-1", "jane.doe@office.be", "idp:4f2a-77"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert accepted.status_code == 200
