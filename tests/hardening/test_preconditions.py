"""Issue 16 point 12: ``If-Match: *`` matches any current representation (RFC 9110 §13.1.1):
the clients API proceeds instead of answering 412."""

from __future__ import annotations

from typing import Any

from portal_clients.testing.samples import client_form
from tests.hardening.apps import bearer
from tests.hardening.wire import Apps, send


async def test_if_match_star_saves_the_office_settings(apps: Apps) -> None:
    app = await apps.get("clients")
    current = await send(app, "GET", "/v1/settings", headers=bearer("office-star"))
    body: dict[str, Any] = current.response.json()["settings"]
    for _ in range(2):  # once on the defaults, once on a stored version
        sent = await send(
            app,
            "PUT",
            "/v1/settings",
            json=body,
            headers={**bearer("office-star"), "if-match": "*"},
        )
        assert sent.status == 200, sent.response.text
    assert sent.response.json()["version"] == current.response.json()["version"] + 2


async def test_if_match_star_edits_a_client_and_renames_a_group(apps: Apps) -> None:
    app = await apps.get("clients")
    office = bearer("office-star-2")
    created = await send(app, "POST", "/v1/clients", json=client_form(7701), headers=office)
    assert created.status == 201, created.response.text
    client = created.response.json()
    edited = await send(
        app,
        "PUT",
        f"/v1/clients/{client['client_id']}",
        json=client_form(7701, company={"name": "Bakkerij Ster"}),
        headers={**office, "if-match": "*"},
    )
    assert edited.status == 200, edited.response.text
    group = await send(app, "POST", "/v1/groups", json={"name": "Star"}, headers=office)
    renamed = await send(
        app,
        "PATCH",
        f"/v1/groups/{group.response.json()['group_id']}",
        json={"name": "Étoile"},
        headers={**office, "if-match": "*"},
    )
    assert renamed.status == 200, renamed.response.text


async def test_a_stale_or_malformed_if_match_still_fails(apps: Apps) -> None:
    app = await apps.get("clients")
    office = bearer("office-star-3")
    for value, status in (('"41"', 412), ("W/nope", 412), ("", 428)):
        headers = {**office, "if-match": value} if value else office
        sent = await send(app, "PUT", "/v1/settings", json={}, headers=headers)
        assert sent.status == status, (value, sent.response.text)


async def test_if_match_star_replaces_and_deletes_a_delivery_connection(apps: Apps) -> None:
    """Was: delivery read ``*`` as a version number, 412 (test_hostile_inputs found it)."""
    app = await apps.get("delivery")
    office = bearer("office-star-4")
    made = await send(
        app, "POST", "/v1/connections", json={"name": "star", "kind": "agent"}, headers=office
    )
    assert made.status == 201, made.response.text
    star = {**office, "if-match": "*"}
    form = {"name": "star", "kind": "agent", "settings": {"base_folder": "docs"}}
    replaced = await send(app, "PUT", "/v1/connections/star", json=form, headers=star)
    assert (replaced.status, replaced.response.json()["version"]) == (200, 2), (
        replaced.response.text
    )
    deleted = await send(app, "DELETE", "/v1/connections/star", headers=star)
    assert deleted.status == 204, deleted.response.text
    gone = await send(app, "DELETE", "/v1/connections/star", headers=star)
    assert (gone.status, gone.code) == (404, "not_found")
