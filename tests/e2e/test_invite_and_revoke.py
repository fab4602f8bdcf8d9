"""Issue 14 point 2 across services (real Kafka, SecantusDB, SMTP catcher, each service's API
and worker as processes):

- an accountant invites a client, the clients service shows it invited; the accountant revokes
  the invitation in the invitations service → ClientInvitationRevoked → the clients service
  shows the client "not yet invited" again, in its GET and its list, with no invitation;
- an accountant-managed client activated silently is invited later and accepts: active all along
  in the clients service, its invitation sent, then accepted.
"""

from __future__ import annotations

import email
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal_clients.testing.samples import client_form
from portal_infra.pytest_plugin import wait_for_port
from tests.e2e.conftest import Stack, bearer, poll
from tests.e2e.test_invite_and_accept import text_part

pytestmark = pytest.mark.e2e

OFFICE = "office-revoke"


async def _start(stack: Stack, mail_dir: Path) -> None:
    smtp_port = stack.start_mail_catcher(mail_dir)
    for service in ("clients", "invitations"):
        stack.start_api(service)
        stack.start_worker(service)
    wait_for_port(smtp_port)
    for service in ("clients", "invitations"):
        await stack.wait_healthy(service)


async def test_revoking_the_invitation_makes_the_client_not_invited_in_clients(
    stack: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    await _start(stack, mail_dir)
    headers = bearer(OFFICE)
    created = await http.post(
        stack.url("clients") + "/v1/clients", json=client_form(901), headers=headers
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    invitation_url = stack.url("invitations") + f"/v1/invitations/clients/{client_id}"

    async def invited() -> bool:  # 404 until the invitations service heard ClientCreated
        return (await http.post(invitation_url, headers=headers)).status_code == 202

    await poll(invited, timeout_s=60, what="the invitations service to know the client")

    async def client() -> dict[str, Any]:
        response = await http.get(
            stack.url("clients") + f"/v1/clients/{client_id}", headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def shown_invited() -> bool:
        body = await client()
        return body["status"] == "inactive" and (body["invitation"] or {}).get("state") == "sent"

    await poll(shown_invited, timeout_s=90, what="ClientInvited in clients", stack=stack)
    assert sorted(mail_dir.glob("*.eml")), "the invitation e-mail went out"

    revoked = await http.delete(invitation_url, headers=headers)
    assert revoked.status_code == 204, revoked.text

    async def shown_not_invited() -> bool:
        body = await client()
        return body["status"] == "not_invited" and body["invitation"] is None

    await poll(shown_not_invited, timeout_s=60, what="ClientInvitationRevoked", stack=stack)
    page = await http.get(
        stack.url("clients") + "/v1/clients", params={"status": "not_invited"}, headers=headers
    )
    [row] = [r for r in page.json()["items"] if r["client_id"] == client_id]
    assert (row["status"], row["invitation"]) == ("not_invited", None)
    status = (await http.get(invitation_url, headers=headers)).json()
    assert status["invitation"]["state"] == "revoked"


async def test_a_silently_activated_client_invited_later_stays_active_in_clients(
    stack: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    await _start(stack, mail_dir)
    headers = bearer(OFFICE)
    form = client_form(902, company={"subscription_mode": "accountant_managed"})
    created = await http.post(stack.url("clients") + "/v1/clients", json=form, headers=headers)
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    invitation_url = stack.url("invitations") + f"/v1/invitations/clients/{client_id}"

    async def activated() -> bool:  # 404 until the invitations service heard ClientCreated
        response = await http.post(invitation_url + "/activation", headers=headers)
        return response.status_code == 200

    await poll(activated, timeout_s=60, what="the invitations service to know the client")

    async def client() -> dict[str, Any]:
        response = await http.get(
            stack.url("clients") + f"/v1/clients/{client_id}", headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def shown(invitation_state: str | None) -> bool:
        body = await client()
        state = (body["invitation"] or {}).get("state")
        return body["status"] == "active" and state == invitation_state

    await poll(lambda: shown(None), timeout_s=60, what="ClientActivated in clients", stack=stack)
    invited = await http.post(invitation_url, headers=headers)
    assert invited.status_code == 202, invited.text
    await poll(lambda: shown("sent"), timeout_s=90, what="ClientInvited in clients", stack=stack)

    [mail] = sorted(mail_dir.glob("*.eml"))
    text = text_part(email.message_from_bytes(mail.read_bytes()))
    token = re.search(r"invitation\?token=([A-Za-z0-9_\-]+)", text)
    assert token is not None
    accepted = await http.post(
        stack.url("invitations") + "/v1/invitations/accept",
        json={
            "token": token.group(1),
            "password": "Boekhouding-2026-veilig!",
            "mobile_phone": form["user"]["mobile_phone"],
        },
    )
    assert accepted.status_code == 200, accepted.text
    await poll(lambda: shown("accepted"), timeout_s=60, what="acceptance in clients", stack=stack)
