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
