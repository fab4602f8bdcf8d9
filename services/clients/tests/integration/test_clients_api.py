"""Add, read, edit and list clients through the HTTP API, on the real MongoDB-wire server."""

from __future__ import annotations

import pytest

from portal_clients.testing.samples import client_form, normalised_vat

pytestmark = pytest.mark.integration


async def test_add_then_read_a_client(api, auth) -> None:
    created = await api.post("/v1/clients", json=client_form(1), headers=auth())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["company"]["vat_number"] == normalised_vat(1)
    assert body["user"]["email"] == "info+shop1@example.be"  # trimmed, lower-cased, +tag kept
    assert body["user"]["mobile_phone"] == "+32470123456"
    assert body["status"] == "not_invited"
    assert body["vat_check"] == "valid"
    assert body["group_id"] == "everyone"
    assert created.headers["ETag"] == '"1"'

    read = await api.get(created.headers["Location"], headers=auth())
    assert read.status_code == 200
    assert read.json() == body


async def _create(api, auth, n: int, **kwargs) -> dict:
    headers = kwargs.pop("headers", None) or auth()
    response = await api.post("/v1/clients", json=client_form(n, **kwargs), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_edit_needs_the_current_version(api, auth) -> None:
    client = await _create(api, auth, 2)
    url = f"/v1/clients/{client['client_id']}"
    form = client_form(2, company={"name": "Bakkerij Peeters BV"})

    missing = await api.put(url, json=form, headers=auth())
    assert missing.status_code == 428

    edited = await api.put(url, json=form, headers={**auth(), "If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert edited.json()["company"]["name"] == "Bakkerij Peeters BV"
    assert edited.headers["ETag"] == '"2"'

    stale = await api.put(url, json=client_form(2), headers={**auth(), "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await api.get(url, headers=auth())).json()["company"]["name"] == "Bakkerij Peeters BV"


async def test_broken_rules_answer_422_naming_each_field_in_the_callers_language(api, auth) -> None:
    form = client_form(
        3,
        company={"vat_number": "0403.170.702"},
        user={"email": "not-an-address", "mobile_phone": "02 512 34 56"},
        bank_accounts=["BE00 0000 0000 0000"],
    )
    response = await api.post("/v1/clients", json=form, headers=auth(lang="nl"))
    assert response.status_code == 422
    problem = response.json()
    fields = {e["field"]: e for e in problem["errors"]}
    assert fields["company.vat_number"]["code"] == "vat.checksum"
    assert fields["user.email"]["code"] == "email.syntax"
    assert fields["user.mobile_phone"]["code"] == "phone.not_mobile"
    assert fields["bank_accounts.0"]["code"].startswith("iban.")
    assert "btw-nummer" in fields["company.vat_number"]["message"]  # Dutch
    listed = await api.get("/v1/clients", headers=auth())
    assert listed.json()["items"] == []  # nothing was saved


async def test_an_email_is_unique_across_offices_but_plus_addresses_are_distinct(api, auth) -> None:
    await _create(api, auth, 4, user={"email": "info@shop.be"})
    other_office = auth(office="office-b")
    taken = await api.post(
        "/v1/clients", json=client_form(5, user={"email": " INFO@shop.be"}), headers=other_office
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0] == {
        "field": "user.email",
        "code": "email.taken",
        "message": taken.json()["errors"][0]["message"],
    }
    plus = await api.post(
        "/v1/clients",
        json=client_form(5, user={"email": "info+shop2@shop.be"}),
        headers=other_office,
    )
    assert plus.status_code == 201


async def test_a_company_of_another_office_is_not_duplicated_nor_revealed(api, auth) -> None:
    await _create(api, auth, 6)
    response = await api.post(
        "/v1/clients",
        json=client_form(
            7, company={"vat_number": "BE " + client_form(6)["company"]["vat_number"]}
        ),
        headers=auth(office="office-b"),
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "company.on_platform"
    assert problem["errors"][0]["field"] == "company.vat_number"
    assert "office-a" not in response.text
    assert "Bakkerij" not in response.text
    same_office = await api.post(
        "/v1/clients",
        json=client_form(7, company={"vat_number": client_form(6)["company"]["vat_number"]}),
        headers=auth(),
    )
    assert same_office.status_code == 409
    assert same_office.json()["errors"][0]["code"] == "vat.taken_in_office"


async def test_an_internal_reference_is_unique_within_the_office_only(api, auth) -> None:
    await _create(api, auth, 8, company={"internal_reference": "K-100"})
    clash = await api.post(
        "/v1/clients", json=client_form(9, company={"internal_reference": "k-100"}), headers=auth()
    )
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "company.internal_reference"
    elsewhere = await api.post(
        "/v1/clients",
        json=client_form(9, company={"internal_reference": "K-100"}),
        headers=auth(office="office-b"),
    )
    assert elsewhere.status_code == 201
    no_reference = [
        await api.post(
            "/v1/clients", json=client_form(n, company={"internal_reference": None}), headers=auth()
        )
        for n in (10, 11)
    ]
    assert [r.status_code for r in no_reference] == [201, 201]


async def test_another_offices_client_answers_404_and_stays_unchanged(api, auth) -> None:
    client = await _create(api, auth, 12)
    url = f"/v1/clients/{client['client_id']}"
    intruder = auth(office="office-b")
    assert (await api.get(url, headers=intruder)).status_code == 404
    put = await api.put(
        url,
        json=client_form(12, company={"name": "Hijacked"}),
        headers={**intruder, "If-Match": '"1"'},
    )
    assert put.status_code == 404
    assert (await api.get("/v1/clients", headers=intruder)).json()["items"] == []
    assert (await api.get(url, headers=auth())).json() == client


async def test_concurrent_edits_of_one_version_have_exactly_one_winner(api, auth) -> None:
    # The version condition of the replace decides: one writer matches version 1, the others
    # find version 2 and answer 412.
    import asyncio

    client = await _create(api, auth, 13)
    url = f"/v1/clients/{client['client_id']}"
    answers = await asyncio.gather(
        *(
            api.put(
                url,
                json=client_form(13, company={"name": f"Writer {i}"}),
                headers={**auth(), "If-Match": '"1"'},
            )
            for i in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412, 412, 412, 412, 412]
    final = (await api.get(url, headers=auth())).json()
    winner = next(a for a in answers if a.status_code == 200).json()
    assert final == winner
    assert final["version"] == 2


async def test_concurrent_adds_with_one_email_have_exactly_one_winner(api, auth) -> None:
    import asyncio

    answers = await asyncio.gather(
        *(
            api.post(
                "/v1/clients",
                json=client_form(20 + i, user={"email": "same@race.be"}),
                headers=auth(office=f"office-{i}"),
            )
            for i in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]


async def test_the_openapi_document_is_published(api) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert {"/v1/clients", "/v1/clients/{client_id}", "/v1/clients/availability"} <= set(
        spec["paths"]
    )
    assert {"/v1/groups", "/v1/settings"} <= set(spec["paths"])


async def test_concurrent_adds_of_one_company_by_several_offices_have_one_winner(api, auth) -> None:
    import asyncio

    vat = client_form(30)["company"]["vat_number"]
    answers = await asyncio.gather(
        *(
            api.post(
                "/v1/clients",
                json=client_form(30 + i, company={"vat_number": vat}),
                headers=auth(office=f"office-{i}"),
            )
            for i in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    refused = [a.json() for a in answers if a.status_code == 409]
    assert {p["code"] for p in refused} == {"company.on_platform"}
    assert all("office-" not in str(p) for p in refused)  # nothing of the holder is told
