"""The client list (filters, search, sort, cursor pages), staff visibility by group, groups and
the office's general settings, through the HTTP API on the real MongoDB-wire server."""

from __future__ import annotations

import pytest

from portal_clients.testing.samples import client_form

pytestmark = pytest.mark.integration


async def _create(api, headers, n: int, **kwargs) -> dict:
    response = await api.post("/v1/clients", json=client_form(n, **kwargs), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _group(api, headers, name: str) -> dict:
    response = await api.post("/v1/groups", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_pages_follow_the_cursor_without_gaps_or_repeats(api, auth) -> None:
    admin = auth()
    for n in range(7):
        await _create(api, admin, 100 + n, company={"name": f"Firma {6 - n}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/clients", params=params, headers=admin)).json()
        seen.extend(item["company_name"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Firma {i}" for i in range(7)]
    backwards = await api.get(
        "/v1/clients", params={"sort": "company_name", "order": "desc", "limit": 2}, headers=admin
    )
    assert [i["company_name"] for i in backwards.json()["items"]] == ["Firma 6", "Firma 5"]
    wrong = await api.get(
        "/v1/clients", params={"cursor": cursor or "bm9wZQ", "order": "desc"}, headers=admin
    )
    assert wrong.status_code == 422


async def test_filters_and_text_search(api, auth) -> None:
    admin = auth()
    group = await _group(api, admin, "Gent")
    await _create(api, admin, 200, company={"name": "Alpha", "internal_reference": "A-1"})
    await _create(
        api,
        admin,
        201,
        company={"name": "Beta", "subscription_mode": "delivery_only"},
        group_id=group["group_id"],
    )
    await _create(api, admin, 202, company={"name": "Gamma"}, user={"email": "boss@gamma.be"})

    async def names(**params) -> list[str]:
        response = await api.get("/v1/clients", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [i["company_name"] for i in response.json()["items"]]

    assert await names(group=group["group_id"]) == ["Beta"]
    assert await names(subscription_mode="delivery_only") == ["Beta"]
    assert await names(status="not_invited") == ["Alpha", "Beta", "Gamma"]
    assert await names(status="active") == []
    assert await names(q="alph") == ["Alpha"]
    assert await names(q="a-1") == ["Alpha"]
    assert await names(q="BOSS@") == ["Gamma"]
    vat_of_beta = client_form(201)["company"]["vat_number"]
    assert await names(q=vat_of_beta) == ["Beta"]  # typed with dots, stored compact
    bad = await api.get("/v1/clients", params={"status": "sleeping"}, headers=admin)
    assert bad.status_code == 422


async def test_staff_see_and_add_clients_only_in_their_groups(api, auth) -> None:
    admin = auth()
    gent = await _group(api, admin, "Gent")
    brugge = await _group(api, admin, "Brugge")
    in_gent = await _create(api, admin, 300, group_id=gent["group_id"])
    in_brugge = await _create(api, admin, 301, group_id=brugge["group_id"])
    everyone = await _create(api, admin, 302)

    staff = auth(role="staff", groups=(gent["group_id"],), user="staff-gent")
    listed = (await api.get("/v1/clients", headers=staff)).json()["items"]
    assert {i["client_id"] for i in listed} == {in_gent["client_id"], everyone["client_id"]}
    assert (
        await api.get(f"/v1/clients/{in_brugge['client_id']}", headers=staff)
    ).status_code == 404
    only_brugge = await api.get("/v1/clients", params={"group": brugge["group_id"]}, headers=staff)
    assert only_brugge.json()["items"] == []
    refused = await api.post(
        "/v1/clients", json=client_form(303, group_id=brugge["group_id"]), headers=staff
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "group_id"
    moved_away = await api.put(
        f"/v1/clients/{in_gent['client_id']}",
        json=client_form(300, group_id=brugge["group_id"]),
        headers={**staff, "If-Match": '"1"'},
    )
    assert moved_away.status_code == 403
    admin_sees = (await api.get("/v1/clients", headers=admin)).json()["items"]
    assert len(admin_sees) == 3


async def test_groups_create_rename_staff_and_delete_with_move(api, auth) -> None:
    admin = auth()
    groups = (await api.get("/v1/groups", headers=admin)).json()
    assert [g["group_id"] for g in groups] == ["everyone"]
    gent = await _group(api, admin, "Gent")
    assert (await api.post("/v1/groups", json={"name": " gent "}, headers=admin)).status_code == 409
    renamed = await api.patch(
        f"/v1/groups/{gent['group_id']}",
        json={"name": "Gent-Centrum"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Gent-Centrum"
    stale = await api.patch(
        f"/v1/groups/{gent['group_id']}", json={"name": "X"}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    staffed = await api.put(
        f"/v1/groups/{gent['group_id']}/staff",
        json={"user_ids": ["staff-1", "staff-2"]},
        headers={**admin, "If-Match": '"2"'},
    )
    assert staffed.json()["staff"] == ["staff-1", "staff-2"]
    assert (await api.get("/v1/staff/staff-1/groups", headers=admin)).json() == [gent["group_id"]]

    client = await _create(api, admin, 400, group_id=gent["group_id"])
    busy = await api.delete(f"/v1/groups/{gent['group_id']}", headers=admin)
    assert busy.status_code == 409
    assert busy.json()["errors"][0]["code"] == "group.not_empty"
    moved = await api.delete(
        f"/v1/groups/{gent['group_id']}", params={"move_to": "everyone"}, headers=admin
    )
    assert moved.status_code == 204
    after = (await api.get(f"/v1/clients/{client['client_id']}", headers=admin)).json()
    assert after["group_id"] == "everyone"
    assert after["version"] == 2
    assert (await api.delete("/v1/groups/everyone", headers=admin)).status_code == 409
    staff = auth(role="staff")
    assert (await api.post("/v1/groups", json={"name": "Mine"}, headers=staff)).status_code == 403
    other_office = auth(office="office-b")
    assert (
        await api.patch(
            f"/v1/groups/{gent['group_id']}",
            json={"name": "Z"},
            headers={**other_office, "If-Match": '"1"'},
        )
    ).status_code == 404


async def test_office_settings_decide_the_transfer_methods_clients_may_use(api, auth) -> None:
    admin = auth()
    sftp = {
        "target": {"kind": "sftp", "connection": "Adsolut server", "folder": "clients/peeters"},
        "accounting_software": "adsolut",
    }
    refused = await api.post("/v1/clients", json=client_form(500, integration=sftp), headers=admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "transfer_method.not_enabled"

    current = await api.get("/v1/settings", headers=admin)
    assert current.json()["version"] == 0
    body = {
        "enabled_transfer_methods": ["sftp", "email"],
        "default_timing": {"when": "delayed", "delay_days": 3},
        "credit_card_statements": "with_misc",
        "accounting_softwares": ["adsolut", "exact_online"],
    }
    saved = await api.put("/v1/settings", json=body, headers={**admin, "If-Match": '"0"'})
    assert saved.status_code == 200, saved.text
    assert set(saved.json()["settings"]["enabled_transfer_methods"]) == {"sftp", "email", "manual"}
    again = await api.put("/v1/settings", json=body, headers={**admin, "If-Match": '"0"'})
    assert again.status_code == 412
    bad_timing = {**body, "default_timing": {"when": "delayed"}}
    assert (
        await api.put("/v1/settings", json=bad_timing, headers={**admin, "If-Match": '"1"'})
    ).status_code == 422
    staff = auth(role="staff")
    assert (
        await api.put("/v1/settings", json=body, headers={**staff, "If-Match": '"1"'})
    ).status_code == 403

    accepted = await api.post("/v1/clients", json=client_form(500, integration=sftp), headers=admin)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["integration"]["target"] == {
        "kind": "sftp",
        "connection": "Adsolut server",
        "folder": "clients/peeters",
    }
    traversal = {**sftp, "target": {**sftp["target"], "folder": "../etc"}}
    bad = await api.post("/v1/clients", json=client_form(501, integration=traversal), headers=admin)
    assert bad.json()["errors"][0]["code"] == "folder.traversal"


async def test_availability_of_emails_and_vat_numbers_in_one_call(api, auth) -> None:
    admin = auth()
    await _create(api, admin, 600, user={"email": "taken@x.be"})
    await _create(api, auth(office="office-b"), 601)
    emails = ["TAKEN@x.be", "free@x.be", "broken"] + [f"bulk{i}@x.be" for i in range(2000)]
    vats = [
        client_form(600)["company"]["vat_number"],
        client_form(601)["company"]["vat_number"],
        client_form(602)["company"]["vat_number"],
        "0403.170.702",
    ]
    response = await api.post(
        "/v1/clients/availability", json={"emails": emails, "vat_numbers": vats}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["emails"]["TAKEN@x.be"] == "taken_in_office"
    assert body["emails"]["free@x.be"] == "available"
    assert body["emails"]["broken"] == "invalid"
    assert len(body["emails"]) == 2003
    assert [body["vat_numbers"][v] for v in vats] == [
        "taken_in_office",
        "unavailable",
        "available",
        "invalid",
    ]


async def test_concurrent_renames_of_one_group_version_have_one_winner(api, auth) -> None:
    import asyncio

    admin = auth()
    gent = await _group(api, admin, "Gent")
    url = f"/v1/groups/{gent['group_id']}"
    answers = await asyncio.gather(
        *(
            api.patch(url, json={"name": f"Gent {i}"}, headers={**admin, "If-Match": '"1"'})
            for i in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412, 412, 412, 412, 412]
    winner = next(a for a in answers if a.status_code == 200).json()
    groups = (await api.get("/v1/groups", headers=admin)).json()
    assert next(g for g in groups if g["group_id"] == gent["group_id"]) == winner


async def test_the_list_filters_by_transfer_method_and_shows_it_on_each_row(api, auth) -> None:
    admin = auth()
    settings = {"enabled_transfer_methods": ["email"], "accounting_softwares": ["adsolut"]}
    saved = await api.put("/v1/settings", json=settings, headers={**admin, "If-Match": '"0"'})
    assert saved.status_code == 200, saved.text
    by_email = {
        "target": {"kind": "email", "all": "inbox@adsolut.example"},
        "accounting_software": "adsolut",
    }
    await _create(api, admin, 600, company={"name": "Alpha"})
    await _create(api, admin, 601, company={"name": "Beta"}, integration=by_email)
    await _create(api, admin, 602, company={"name": "Gamma"}, integration=by_email)

    async def rows(**params) -> list[tuple[str, str]]:
        response = await api.get("/v1/clients", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [(i["company_name"], i["transfer_method"]) for i in response.json()["items"]]

    assert await rows(transfer_method="email") == [("Beta", "email"), ("Gamma", "email")]
    assert await rows(transfer_method="manual") == [("Alpha", "manual")]
    assert await rows(transfer_method="sftp") == []
    assert await rows(transfer_method="email", q="gam") == [("Gamma", "email")]
    # the filter and the cursor: the second page of e-mail clients holds the rest, no repeats
    first = (
        await api.get("/v1/clients", params={"transfer_method": "email", "limit": 1}, headers=admin)
    ).json()
    second = await rows(transfer_method="email", limit=1, cursor=first["next_cursor"])
    assert [first["items"][0]["company_name"], *(n for n, _ in second)] == ["Beta", "Gamma"]
    refused = await api.get("/v1/clients", params={"transfer_method": "fax"}, headers=admin)
    assert refused.status_code == 422
