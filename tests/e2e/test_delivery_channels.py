"""Delivery end to end, as `make up` runs it: the planner, the scheduler, the e-mail and the sFTP
workers as real processes on the real Kafka and MongoDB-wire server, a real SMTP server and a real
sFTP server on loopback. Documents arrive as DocumentReady (their files in the blob store), the
clients' settings as ClientCreated; the test counts at the receiving side.

- each channel delivers once; a replayed DocumentReady and a redelivered request change nothing;
- the sFTP worker SIGKILLed mid-upload: exactly one complete file set, no ``.part`` left;
- the ledger (over HTTP) shows every delivery with its proof; secrets appear in no response,
  log line or event.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from gridfs import AsyncGridFSBucket
from pymongo import AsyncMongoClient

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import (
    ClientCreated,
    ClientCreatedPayload,
    ClientSnapshot,
    ClientUser,
    Company,
    DeliveryTarget,
    EmailTarget,
    Integration,
    SendTiming,
    SftpTarget,
    Timing,
    VatCheck,
)
from portal_contracts.documents import BlobRef, DocumentReady, DocumentReadyPayload
from portal_contracts.values import (
    ClientStatus,
    DocumentKind,
    Language,
    SubscriptionMode,
    VatFrequency,
)
from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.entrypoints import sftp_server
from portal_infra.process import free_port
from tests.e2e.conftest import Stack, bearer, poll, read_events

pytestmark = pytest.mark.e2e

SFTP_PASSWORD = "e2e-sftp-password-must-never-leak-7391"
UBL = b'<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>INV-1</ID></Invoice>'


def snapshot(client_id: str, target: DeliveryTarget) -> ClientSnapshot:
    now = datetime.now(UTC)
    return ClientSnapshot(
        client_id=client_id,
        version=1,
        status=ClientStatus.ACTIVE,
        vat_check=VatCheck.VALID,
        created_at=now,
        updated_at=now,
        company=Company(
            vat_number="BE0403170701",
            name="Acme",
            vat_frequency=VatFrequency.MONTHLY,
            subscription_mode=SubscriptionMode.DELIVERY_ONLY,
        ),
        user=ClientUser(
            first_name="An",
            last_name="Peeters",
            email=f"{client_id}@acme.test",
            mobile_phone="+32470123456",
            language=Language.NL,
        ),
        group_id="everyone",
        integration=Integration(target=target, timing=Timing(when=SendTiming.IMMEDIATELY)),
    )


class Catcher:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return f"250 2.0.0 queued as E{len(self.messages)}"


@pytest.fixture
async def catcher() -> AsyncIterator[tuple[int, Catcher]]:
    handler, port = Catcher(), free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="catcher"), host="127.0.0.1", port=port
    )
    yield port, handler
    server.close()


@pytest.fixture
async def sftp(tmp_path: Path) -> AsyncIterator[tuple[int, Path, str]]:
    port, root, key = free_port(), tmp_path / "sftp-root", tmp_path / "host_key"
    # Slow writes: an upload takes long enough for the test to kill the worker in the middle.
    acceptor = await sftp_server.serve(
        host="127.0.0.1",
        port=port,
        root=root,
        username="portal",
        password=SFTP_PASSWORD,
        key_path=key,
        slow_writes_s=3.0,
    )
    yield port, root, sftp_server.host_key_line(sftp_server.host_key(key))
    acceptor.close()


async def store_file(
    mongodb_uri: str, database: str, data: bytes, name: str, media: str
) -> BlobRef:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        blob_id = await AsyncGridFSBucket(client[database], bucket_name="blobs").upload_from_stream(
            name, data
        )
    finally:
        await client.close()
    return BlobRef(
        blob_id=str(blob_id),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        filename=name,
        media_type=media,
    )


def delivery_env(stack: Stack, smtp_port: int, test_id: str) -> None:
    stack.env.update(
        {
            "DELIVERY_SECRETS_KEY": new_key_text(),
            "DELIVERY_SMTP_HOST": "127.0.0.1",
            "DELIVERY_SMTP_PORT": str(smtp_port),
            "DELIVERY_BLOB_DATABASE": f"e2e_{test_id}_blobs",
            "DELIVERY_LEASE_S": "5",
            "DELIVERY_SCHEDULER_INTERVAL_S": "0.3",
            "PORTAL_LOG_LEVEL": "DEBUG",  # every line a worker writes is scanned for secrets
        }
    )
    for role in ("planner", "scheduler", "email", "sftp"):
        stack._spawn(
            f"delivery-{role}",
            [
                stack.env.get("PYTHON", "python"),
                "-m",
                "portal_delivery.entrypoints.worker",
                "--role",
                role,
            ],
        )
    stack.start_api("delivery")


async def test_documents_reach_the_mailbox_and_the_sftp_folder_once(
    stack: Stack,
    catcher: tuple[int, Catcher],
    sftp: tuple[int, Path, str],
    kafka_bootstrap: str,
    mongodb_uri: str,
    test_id: str,
    http: httpx.AsyncClient,
) -> None:
    import sys

    stack.env["PYTHON"] = sys.executable
    smtp_port, mailbox = catcher
    sftp_port, sftp_root, host_key = sftp
    delivery_env(stack, smtp_port, test_id)
    await stack.wait_healthy("delivery")
    admin = bearer("o1")

    # The office's sFTP connection: test it, accept the key it shows, test again.
    created = await http.post(
        stack.url("delivery") + "/v1/connections",
        headers=admin,
        json={
            "name": "Kantoor",
            "kind": "sftp",
            "settings": {"host": "127.0.0.1", "port": sftp_port, "username": "portal"},
            "secrets": {"password": SFTP_PASSWORD},
        },
    )
    assert created.status_code == 201, created.text
    probe = (
        await http.post(stack.url("delivery") + "/v1/connections/Kantoor/test", headers=admin)
    ).json()
    assert probe["ok"] is False
    assert probe["code"] == "sftp.host_key_missing"
    assert probe["host_key_shown"] == host_key
    trusted = await http.post(
        stack.url("delivery") + "/v1/connections/Kantoor/host-key",
        headers={**admin, "If-Match": created.headers["ETag"]},
        json={"host_key": probe["host_key_shown"]},
    )
    assert trusted.status_code == 200, trusted.text
    assert (
        await http.post(stack.url("delivery") + "/v1/connections/Kantoor/test", headers=admin)
    ).json()["ok"]

    broker = build_broker(kafka_bootstrap, client_id="e2e")
    await broker.start()
    try:
        Timing(when=SendTiming.IMMEDIATELY)
        for client_id, target in (
            ("c-mail", EmailTarget(sales="sales@yuki.test")),
            ("c-sftp", SftpTarget(connection="Kantoor", folder="acme")),
        ):
            await publish_event(
                broker,
                stack.topics,
                ClientCreated.new(
                    office_id="o1",
                    payload=ClientCreatedPayload(client=snapshot(client_id, target)),
                ),
            )
        events = []
        for client_id in ("c-mail", "c-sftp"):
            ubl = await store_file(
                mongodb_uri, f"e2e_{test_id}_blobs", UBL, f"INV-{client_id}.xml", "application/xml"
            )
            event = DocumentReady.new(
                office_id="o1",
                payload=DocumentReadyPayload(
                    document_id=uuid.uuid4().hex,
                    client_id=client_id,
                    kind=DocumentKind.SALES_INVOICE,
                    profile="peppol-bis3",
                    ubl=ubl,
                ),
            )
            events.append(event)
            await publish_event(broker, stack.topics, event)

        # The sFTP upload is slow (3 s a write): kill its worker mid-upload, then restart it.
        await poll(
            lambda: _any_part(sftp_root), timeout_s=60, what="an upload in progress", stack=stack
        )
        stack.kill("delivery-sftp")
        stack._spawn(
            "delivery-sftp",
            [sys.executable, "-m", "portal_delivery.entrypoints.worker", "--role", "sftp"],
        )

        await poll(
            lambda: _done(mailbox, sftp_root), timeout_s=90, what="both deliveries", stack=stack
        )
        for event in events:  # replayed: nothing new
            await publish_event(broker, stack.topics, event)
        await asyncio.sleep(8)  # past a lease: a lost or duplicated request would show by now
    finally:
        await broker.stop()

    assert len(mailbox.messages) == 1
    assert mailbox.messages[0].rcpt_tos == ["sales@yuki.test"]
    files = sorted(p for p in sftp_root.rglob("*") if p.is_file())
    assert [p.relative_to(sftp_root).parts[:2] for p in files] == [("acme", "sales")]
    assert files[0].read_bytes() == UBL
    assert not list(sftp_root.rglob("*.part"))

    ledger = (await http.get(stack.url("delivery") + "/v1/deliveries", headers=admin)).json()
    states = {d["client_id"]: d for d in ledger["items"]}
    assert {c: d["state"] for c, d in states.items()} == {"c-mail": "sent", "c-sftp": "sent"}
    mail_proof = states["c-mail"]["attempts"][-1]
    assert mail_proof["sent"][0]["sha256"] == hashlib.sha256(UBL).hexdigest()
    assert mail_proof["receipt"]["message_id"].startswith("<delivery.")
    assert "queued as" in mail_proof["receipt"]["summary"]
    assert states["c-sftp"]["attempts"][-1]["receipt"]["files"][0]["size"] == len(UBL)
    other = (await http.get(stack.url("delivery") + "/v1/deliveries", headers=bearer("o2"))).json()
    assert other["items"] == []
    one = states["c-mail"]["delivery_id"]
    assert (
        await http.get(stack.url("delivery") + f"/v1/deliveries/{one}", headers=bearer("o2"))
    ).status_code == 404
    tested = await http.post(
        stack.url("delivery") + "/v1/connections/Kantoor/test", headers=bearer("o2")
    )
    assert tested.status_code == 404

    # The secret: in no response, no log line, no event.
    listed = await http.get(stack.url("delivery") + "/v1/connections", headers=admin)
    assert SFTP_PASSWORD not in listed.text
    assert listed.json()[0]["secrets_set"] == ["password"]
    for log in stack.logs.glob("*.log"):
        assert SFTP_PASSWORD not in log.read_text(errors="replace"), log.name
    for topic in stack.topics.all():
        for event in await read_events(
            kafka_bootstrap, topic, at_least=0, timeout_s=2, settle_s=0.5
        ):
            assert SFTP_PASSWORD not in json.dumps(event)


async def _any_part(root: Path) -> bool:
    return bool(list(root.rglob("*.part")))  # noqa: ASYNC240 - a test's poll of a tmp folder


async def _done(mailbox: Catcher, root: Path) -> bool:
    finals = [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".part")]  # noqa: ASYNC240
    parts = list(root.rglob("*.part"))  # noqa: ASYNC240
    return len(mailbox.messages) >= 1 and len(finals) >= 1 and not parts
