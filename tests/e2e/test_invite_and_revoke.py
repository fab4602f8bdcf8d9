"""Issue 14 point 2 across services: an accountant invites a client (real SMTP catcher), the
clients service shows it invited; the accountant revokes the invitation in the invitations
service → ClientInvitationRevoked over Kafka → the clients service shows the client "not yet
invited" again, in its GET and its list, with no invitation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from portal_clients.testing.samples import client_form
from portal_infra.process import free_port
from portal_infra.pytest_plugin import wait_for_port
from tests.e2e.conftest import Stack, bearer, poll

pytestmark = pytest.mark.e2e

OFFICE = "office-revoke"


async def test_revoking_the_invitation_makes_the_client_not_invited_in_clients(
    stack: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    mail_dir, smtp_port = tmp_path / "mail", free_port()
    stack._spawn(
        "smtp-catcher",
        [
            "python",
            "-m",
            "portal_invitations.entrypoints.mail_catcher",
            "--port",
            str(smtp_port),
            "--dir",
            str(mail_dir),
        ],
    )
    stack.env.update(
        {
            "INVITATIONS_SMTP_HOST": "127.0.0.1",
            "INVITATIONS_SMTP_PORT": str(smtp_port),
            "INVITATIONS_SEND_POLL_INTERVAL_S": "0.2",
            "INVITATIONS_ACCEPT_URL": "https://app.example.test/invitation?token={token}",
        }
    )
    for service in ("clients", "invitations"):
        stack.start_api(service)
        stack.start_worker(service)
    wait_for_port(smtp_port)
    for service in ("clients", "invitations"):
        await stack.wait_healthy(service)

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
