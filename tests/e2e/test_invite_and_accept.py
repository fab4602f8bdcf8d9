"""The whole onboarding path across services: an import row says "invite right away" →
ClientCreated(invite) → the invitations service e-mails the client (real SMTP catcher) → the
client opens the link and accepts → ClientActivated → the clients service shows the client active.
"""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path

import httpx
import pytest

from portal_importer.samples import client_row
from portal_infra.pytest_plugin import wait_for_port
from tests.e2e.conftest import Stack, bearer, poll
from tests.e2e.test_import_creates_clients import OFFICE, XLSX, fill

pytestmark = pytest.mark.e2e


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no plain-text part")


async def test_invite_right_away_then_accept_makes_the_client_active(
    stack: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    smtp_port = stack.start_mail_catcher(mail_dir)
    stack.start_api("clients")
    stack.start_worker("clients")
    stack.env["IMPORTER_CLIENTS_URL"] = stack.url("clients")
    for service in ("importer", "invitations"):
        stack.start_api(service)
        stack.start_worker(service)
    wait_for_port(smtp_port)
    for service in ("clients", "importer", "invitations"):
        await stack.wait_healthy(service)

    template = await http.get(
        stack.url("importer") + "/v1/imports/template", headers=bearer(OFFICE)
    )
    row = client_row(1, language="nl")  # odd rows: "invite right away" = yes
    row["user.language"] = "Nederlands"
    uploaded = await http.post(
        stack.url("importer") + "/v1/imports",
        headers=bearer(OFFICE),
        files={"file": ("clients.xlsx", fill(template.content, [row]), XLSX)},
    )
    assert uploaded.json()["report"]["valid"] is True, uploaded.json()["report"]
    import_url = stack.url("importer") + f"/v1/imports/{uploaded.json()['id']}"
    assert (await http.post(import_url + "/confirm", headers=bearer(OFFICE))).status_code == 202

    async def delivered() -> list[Path]:
        return sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []

    mails = await poll(delivered, timeout_s=120, what="the invitation e-mail", stack=stack)
    assert len(mails) == 1
    message = email.message_from_bytes(mails[0].read_bytes())
    assert message["To"] == "Marie Lambert 1 <client1@bureau-example.be>"
    assert "nodigt u uit op uw klantenportaal" in str(message["Subject"])  # the client's language
    body = text_part(message)
    assert body.startswith("Beste Marie,")
    token = re.search(r"invitation\?token=([A-Za-z0-9_\-]+)", body)
    assert token is not None, body

    page = (await http.get(stack.url("clients") + "/v1/clients", headers=bearer(OFFICE))).json()
    client_id = (
        page["items"][0]["id"] if "id" in page["items"][0] else page["items"][0]["client_id"]
    )

    async def status() -> str:
        response = await http.get(
            stack.url("clients") + f"/v1/clients/{client_id}", headers=bearer(OFFICE)
        )
        return str(response.json()["status"])

    async def invited() -> bool:
        return await status() == "inactive"

    await poll(invited, timeout_s=60, what="ClientInvited to make the client inactive", stack=stack)

    accepted = await http.post(
        stack.url("invitations") + "/v1/invitations/accept",
        json={
            "token": token.group(1),
            "password": "Boekhouding-2026-veilig!",
            "mobile_phone": "+32 471 00 00 01",
        },
    )
    assert accepted.status_code == 200, accepted.text

    async def active() -> bool:
        return await status() == "active"

    await poll(active, timeout_s=60, what="ClientActivated to make the client active", stack=stack)

    again = await http.post(
        stack.url("invitations") + "/v1/invitations/accept",
        json={
            "token": token.group(1),
            "password": "Boekhouding-2026-veilig!",
            "mobile_phone": "+32471000001",
        },
    )
    assert again.status_code in (400, 404, 409, 410, 422), "the link works once"
