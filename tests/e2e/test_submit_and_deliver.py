"""From the accountant's screens to the accounting software, every service a real process:
clients (API + worker), ubl (API + worker) and delivery (API + planner + e-mail + sFTP workers)
on the real Kafka and MongoDB-wire server, a real SMTP server and a real sFTP server.

A client set to e-mail gets each submitted sales invoice once, in its sales mailbox, as UBL that
passes the official Peppol/EN 16931 rules; a client set to sFTP gets the UBL and the PDF in its
folder; the ledger shows both with their proof.
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import json
import sys
from collections.abc import AsyncIterator
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.entrypoints import sftp_server
from portal_infra.process import free_port
from portal_ubl.samples import make_pdf, sample_data
from tests.e2e.conftest import Stack, bearer, poll

pytestmark = pytest.mark.e2e

SFTP_PASSWORD = "e2e-sftp-password-0042-never-shown"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 queued as M1"


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[int, Mailbox]]:
    handler, port = Mailbox(), free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="relay"), host="127.0.0.1", port=port
    )
    yield port, handler
    server.close()


@pytest.fixture
async def sftp(tmp_path: Path) -> AsyncIterator[tuple[int, Path, str]]:
    port, root, key = free_port(), tmp_path / "sftp", tmp_path / "key"
    acceptor = await sftp_server.serve(
        host="127.0.0.1",
        port=port,
        root=root,
        username="portal",
        password=SFTP_PASSWORD,
        key_path=key,
    )
    yield port, root, sftp_server.host_key_line(sftp_server.host_key(key))
    acceptor.close()


def client_form(n: int, target: dict[str, Any], software: str) -> dict[str, Any]:
    base = 3_000_000 + n
    vat = f"{base:08d}{97 - base % 97:02d}"
    return {
        "company": {
            "vat_number": f"BE{vat}",
            "name": f"Boulangerie {n}",
            "vat_frequency": "quarterly",
            "subscription_mode": "full_follow_up",
        },
        "user": {
            "first_name": "Anne",
            "last_name": "Peeters",
            "email": f"anne{n}@boulangerie{n}.be",
            "mobile_phone": "0470 12 34 56",
            "language": "fr",
        },
        "bank_accounts": ["BE68 5390 0754 7034"],
        "integration": {
            "target": target,
            "timing": {"when": "immediately"},
            "accounting_software": software,
        },
    }


async def test_a_submitted_sales_invoice_reaches_the_mailbox_and_the_folder(
    stack: Stack,
    mailbox: tuple[int, Mailbox],
    sftp: tuple[int, Path, str],
    http: httpx.AsyncClient,
    test_id: str,
) -> None:
    smtp_port, box = mailbox
    sftp_port, sftp_root, host_key = sftp
    stack.env.update(
        {
            "DELIVERY_SECRETS_KEY": new_key_text(),
            "DELIVERY_SMTP_HOST": "127.0.0.1",
            "DELIVERY_SMTP_PORT": str(smtp_port),
            "DELIVERY_BLOB_DATABASE": f"e2e_{test_id}_ubl",  # ubl's blob store
        }
    )
    for service in ("clients", "ubl", "delivery"):
        stack.start_api(service)
    stack.start_worker("clients")
    stack.start_worker("ubl")
    for role in ("planner", "email", "sftp"):
        stack._spawn(
            f"delivery-{role}",
            [sys.executable, "-m", "portal_delivery.entrypoints.worker", "--role", role],
        )
    for service in ("clients", "ubl", "delivery"):
        await stack.wait_healthy(service)
    admin = bearer("o1")

    created = await http.post(
        stack.url("delivery") + "/v1/connections",
        headers=admin,
        json={
            "name": "Kantoor",
            "kind": "sftp",
            "settings": {
                "host": "127.0.0.1",
                "port": sftp_port,
                "username": "portal",
                "host_key": host_key,
            },
            "secrets": {"password": SFTP_PASSWORD},
        },
    )
    assert created.status_code == 201, created.text
    settings = await http.put(
        stack.url("clients") + "/v1/settings",
        headers={**admin, "If-Match": "*"},
        json={
            "enabled_transfer_methods": ["manual", "email", "sftp"],
            "accounting_softwares": ["yuki", "winbooks"],
            "default_timing": {"when": "after_processing"},
        },
    )
    assert settings.status_code == 200, settings.text
    clients = {}
    for n, (name, target, software) in enumerate(
        (
            (
                "mail",
                {
                    "kind": "email",
                    "sales": "verkoop@yuki-demo.be",
                    "purchase": "aankoop@yuki-demo.be",
                },
                "yuki",
            ),
            (
                "sftp",
                {"kind": "sftp", "connection": "Kantoor", "folder": "boulangerie"},
                "winbooks",
            ),
        )
    ):
        answer = await http.post(
            stack.url("clients") + "/v1/clients?skip_vat_check=true",
            headers=admin,
            json=client_form(n + int(test_id[:4], 16), target, software),
        )
        assert answer.status_code == 201, answer.text
        clients[name] = answer.json()["client_id"]

    async def submit(client_id: str) -> dict[str, Any]:
        answer = await http.post(
            stack.url("ubl") + "/v1/documents",
            headers=admin,
            data={
                "kind": "sales_invoice",
                "client_id": client_id,
                "data": json.dumps(sample_data(lines=3)),
            },
            files={"pdf": ("Facture janvier.pdf", make_pdf(), "application/pdf")},
        )
        if answer.status_code == 422 and answer.json().get("code") == "client.unknown":
            return {}  # ubl has not heard of the client yet (events lag): try again
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    documents = {}
    for name, client_id in clients.items():
        documents[name] = await poll(
            lambda c=client_id: submit(c), timeout_s=30, what="ubl knows the client", stack=stack
        )

    await poll(
        lambda: _arrived(box, sftp_root),
        timeout_s=90,
        what="the e-mail and the sFTP files",
        stack=stack,
    )
    await asyncio.sleep(3)  # and nothing more comes
    [message] = box.messages
    assert message.rcpt_tos == ["verkoop@yuki-demo.be"]  # the sales mailbox
    parsed = email.message_from_bytes(message.original_content or b"", policy=policy.default)
    [ubl_part] = [p for p in parsed.iter_attachments() if p.get_filename().endswith(".xml")]
    ubl = (
        ubl_part.get_content()
        if isinstance(ubl_part.get_content(), bytes)
        else ubl_part.get_payload(decode=True)
    )
    assert hashlib.sha256(ubl).hexdigest() == documents["mail"]["ubl"]["sha256"]
    from portal_ubl.adapters.validation import shared_rules

    report = shared_rules().check(ubl)
    assert report.passed, report.fatal[:3]
    assert report.fired_rules > 50  # the official stylesheets really ran

    files = sorted(p.relative_to(sftp_root) for p in sftp_root.rglob("*") if p.is_file())
    assert [f.parts[:2] for f in files] == [("boulangerie", "sales")] * 2
    assert {f.suffix for f in files} == {".pdf", ".xml"}
    assert files[0].stem == files[1].stem  # UBL and PDF under one base name

    ledger = (await http.get(stack.url("delivery") + "/v1/deliveries", headers=admin)).json()[
        "items"
    ]
    by_client = {d["client_id"]: d for d in ledger}
    assert {by_client[c]["state"] for c in clients.values()} == {"sent"}
    assert by_client[clients["mail"]]["attempts"][-1]["receipt"]["message_id"]
    sent_files = by_client[clients["sftp"]]["attempts"][-1]["sent"]
    assert sorted(f["name"].rsplit(".", 1)[1] for f in sent_files) == ["pdf", "xml"]
    assert all(len(f["sha256"]) == 64 for f in sent_files)


async def _arrived(box: Mailbox, root: Path) -> bool:
    files = [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".part")]  # noqa: ASYNC240
    return len(box.messages) >= 1 and len(files) >= 2
