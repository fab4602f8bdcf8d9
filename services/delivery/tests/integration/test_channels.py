"""The e-mail and sFTP channels against real servers on loopback, driven through the handlers
and the real ledger (MongoDB) so the retries and the proof are what production records."""

from __future__ import annotations

import email
import uuid
from datetime import timedelta
from email import policy
from typing import Any

import pytest

from portal_contracts.clients import EmailTarget, SendTiming, SftpTarget, Timing
from portal_contracts.delivery import DeliveryRequested
from portal_contracts.office import OfficeProfileChanged, OfficeProfileChangedPayload
from portal_contracts.values import Language, TransferMethod
from portal_delivery.adapters.channels.email import EmailChannel, SmtpRelay
from portal_delivery.adapters.channels.sftp import SftpChannel
from portal_delivery.bootstrap import Service
from portal_delivery.domain.connections import Kind, build
from portal_delivery.domain.delivery import State
from portal_delivery.service.planning import (
    plan_document,
    remember_client_route,
    remember_office_profile,
)
from portal_delivery.service.sending import deliver_requested, dispatch_due
from services.delivery.tests.conftest import SftpServer, SmtpServer
from services.delivery.tests.samples import blob, document_ready, snapshot

pytestmark = pytest.mark.integration

IMMEDIATELY = Timing(when=SendTiming.IMMEDIATELY)
UBL = b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
PDF = b"%PDF-1.7 a tiny pdf"


async def stored_blob(service: Service, data: bytes, name: str, media_type: str) -> Any:
    from gridfs import AsyncGridFSBucket

    bucket = AsyncGridFSBucket(
        service.runtime.mongo[service.settings.blob_database],
        bucket_name=service.settings.blob_bucket,
    )
    blob_id = await bucket.upload_from_stream(name, data)
    return blob(data, name, media_type, blob_id=str(blob_id))


async def submitted(service: Service, **changes: Any) -> str:
    ubl = await stored_blob(service, UBL, "INV-7.xml", "application/xml")
    pdf = await stored_blob(service, PDF, "INV-7.pdf", "application/pdf")
    event = document_ready(ubl, pdf, pdf_beside=True, **changes)
    await plan_document(event, service.deps)
    return event.payload.document_id


async def outbox_requests(service: Service) -> list[DeliveryRequested]:
    requests = []
    async for record in service.runtime.outbox.collection.find({}).sort("_id", 1):
        for entry in record["events"]:
            if entry["type"] == "DeliveryRequested":
                requests.append(DeliveryRequested.model_validate_json(bytes(entry["body"])))
    await service.runtime.outbox.collection.delete_many({})
    return requests


async def work(service: Service, channel: Any) -> list[str]:
    return [
        await deliver_requested(r, channel, service.deps) for r in await outbox_requests(service)
    ]


def relay(smtp: SmtpServer) -> SmtpRelay:
    return SmtpRelay("127.0.0.1", smtp.port, "documents@portal.test", "portal.test", timeout_s=5)


async def test_email_4xx_then_accepted_gives_one_message_with_a_stable_message_id(
    service: Service, smtp: SmtpServer
) -> None:
    target = EmailTarget(sales="sales@yuki.test")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    smtp.mailbox.answers = ["451 4.7.1 greylisted, try later"]
    channel = EmailChannel(relay(smtp))
    assert await work(service, channel) == ["retry"]
    [delivery] = await service.deps.ledger.page(_query())
    assert delivery.state is State.SCHEDULED
    assert delivery.last_problem is not None
    assert "451" in delivery.last_problem.detail
    assert await dispatch_due(service.deps) == 0  # the back-off holds it
    await service.runtime.db["deliveries"].update_one(
        {"_id": delivery.delivery_id}, {"$set": {"due_at": service.deps.clock.now()}}
    )
    assert await dispatch_due(service.deps) == 1
    assert await work(service, channel) == ["sent"]
    [message] = smtp.mailbox.messages
    parsed = email.message_from_bytes(message.original_content or b"", policy=policy.default)
    assert parsed["Message-ID"] == f"<delivery.{delivery.delivery_id}@portal.test>"
    assert message.rcpt_tos == ["sales@yuki.test"]
    names = [part.get_filename() for part in parsed.iter_attachments()]
    stem = names[0].rsplit(".", 1)[0]
    assert names == [f"{stem}.pdf", f"{stem}.xml"]  # same base name, XML last
    [sent] = await service.deps.ledger.page(_query())
    assert sent.state is State.SENT
    assert sent.attempts[-1].receipt["message_id"] == parsed["Message-ID"]
    assert "queued as Q0001" in sent.attempts[-1].receipt["summary"]


async def test_an_e_mail_comes_from_the_office_s_sender_name_from_its_profile(
    service: Service, smtp: SmtpServer
) -> None:
    """OfficeProfileChanged (clients) gives delivery the From name of the office's e-mails:
    the newest version (an older one is ignored), on the platform's address."""

    def profile(version: int, name: str, sender: str | None) -> OfficeProfileChanged:
        payload = OfficeProfileChangedPayload(
            version=version, name=name, languages=[Language.FR], sender_name=sender
        )
        return OfficeProfileChanged.new(office_id="o1", payload=payload)

    assert await remember_office_profile(profile(2, "Fiduciaire Dupont", None), service.deps)
    assert not await remember_office_profile(profile(1, "Ancien", "Ancien"), service.deps)
    target = EmailTarget(sales="sales@yuki.test")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    assert await work(service, EmailChannel(relay(smtp))) == ["sent"]
    [message] = smtp.mailbox.messages
    parsed = email.message_from_bytes(message.original_content or b"", policy=policy.default)
    (sender,) = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Fiduciaire Dupont", "documents@portal.test")


async def test_email_5xx_fails_with_the_relays_words(service: Service, smtp: SmtpServer) -> None:
    await remember_client_route(
        "o1",
        snapshot(1, target=EmailTarget(all="nobody@yuki.test"), timing=IMMEDIATELY),
        service.deps,
    )
    await submitted(service)
    smtp.mailbox.answers = ["550 5.1.1 mailbox unavailable"]
    print("DEBUG deliveries", [d async for d in service.runtime.db["deliveries"].find({})])
    print("DEBUG outbox", [d async for d in service.runtime.outbox.collection.find({})])
    assert await work(service, EmailChannel(relay(smtp))) == ["failed"]
    [delivery] = await service.deps.ledger.page(_query())
    assert delivery.state is State.FAILED
    assert delivery.last_problem is not None
    assert delivery.last_problem.code == "email.rejected"
    assert "5.1.1" in delivery.last_problem.detail
    assert smtp.mailbox.messages == []


async def sftp_connection(service: Service, sftp: SftpServer, **settings: Any) -> None:
    connection = build(
        "o1",
        "Kantoor",
        Kind.SFTP,
        {
            "host": "127.0.0.1",
            "port": sftp.port,
            "username": sftp.username,
            "host_key": sftp.host_key,
            "base_folder": "inbox",
            **settings,
        },
        {"password": sftp.password},
    )
    await service.deps.connections.save(connection, 0)


async def test_sftp_writes_pdf_and_ubl_under_one_name_in_the_clients_folder(
    service: Service, sftp: SftpServer
) -> None:
    await sftp_connection(service, sftp)
    target = SftpTarget(connection="Kantoor", folder="acme")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    assert await work(service, SftpChannel(timeout_s=5)) == ["sent"]
    files = sftp.files()
    assert len(files) == 2
    assert all(f.startswith("inbox/acme/sales/") for f in files)
    assert {f.rsplit(".", 1)[0] for f in files} == {files[0].rsplit(".", 1)[0]}
    assert (sftp.root / files[1]).read_bytes() in (UBL, PDF)
    [delivery] = await service.deps.ledger.page(_query())
    assert sorted(f["path"] for f in delivery.attempts[-1].receipt["files"]) == sorted(files)
    assert {f["size"] for f in delivery.attempts[-1].sent} == {len(UBL), len(PDF)}


async def test_sftp_down_then_up_gives_one_file_set(service: Service, sftp: SftpServer) -> None:
    await sftp_connection(service, sftp)
    target = SftpTarget(connection="Kantoor", folder="acme")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    await sftp.stop()
    channel = SftpChannel(timeout_s=3)
    assert await work(service, channel) == ["retry"]
    [delivery] = await service.deps.ledger.page(_query())
    assert delivery.last_problem is not None
    assert delivery.last_problem.code == "sftp.unreachable"
    await sftp.start()
    await service.runtime.db["deliveries"].update_one(
        {"_id": delivery.delivery_id}, {"$set": {"due_at": service.deps.clock.now()}}
    )
    assert await dispatch_due(service.deps) == 1
    assert await work(service, channel) == ["sent"]
    assert len(sftp.files()) == 2


async def test_a_retry_after_a_crash_before_the_ledger_write_leaves_one_file_set(
    service: Service, sftp: SftpServer
) -> None:
    """The upload landed, the worker died before recording it: the lease brings the delivery
    back under the same attempt; the same names are found in place (same size and sha256) and
    nothing is added."""
    await sftp_connection(service, sftp)
    target = SftpTarget(connection="Kantoor", folder="acme")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    [request] = await outbox_requests(service)
    delivery = await service.deps.ledger.get(request.payload.delivery_id)
    assert delivery is not None
    assert delivery.start(1, service.deps.clock.now(), timedelta(seconds=1))
    await service.deps.ledger.save(delivery)
    parcel_files = [(f, UBL if f.role == "ubl" else PDF) for f in delivery.files]
    from portal_delivery.ports import Parcel

    connection = await service.deps.connections.get("o1", "Kantoor")
    await SftpChannel().deliver(Parcel(delivery, parcel_files, connection, None))  # then "dies"
    later = service.deps.clock.now() + timedelta(seconds=2)
    assert await service.deps.ledger.dispatch_due(later, timedelta(seconds=5), 10) == 1
    [again] = await outbox_requests(service)
    assert again.payload.attempt == 1  # the same attempt: same names
    assert await deliver_requested(again, SftpChannel(), service.deps) == "sent"
    assert len(sftp.files()) == 2


async def test_sftp_without_posix_rename_still_replaces_atomically_enough(
    service: Service, sftp: SftpServer
) -> None:
    await sftp.stop()
    await sftp.start(posix_rename=False)
    await sftp_connection(service, sftp)
    target = SftpTarget(connection="Kantoor", folder="acme")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    document_id = uuid.uuid4().hex
    await submitted(service, document_id=document_id)
    assert await work(service, SftpChannel()) == ["sent"]
    [delivery] = await service.deps.ledger.page(_query())
    for path in sftp.files():  # an older version under the final names
        (sftp.root / path).write_bytes(b"an older version")
    await service.runtime.db["deliveries"].update_one(
        {"_id": delivery.delivery_id},
        {"$set": {"state": "scheduled", "due_at": service.deps.clock.now()}},
    )
    assert await dispatch_due(service.deps) == 1
    assert await work(service, SftpChannel()) == ["sent"]
    files = sftp.files()
    assert len(files) == 2
    assert {(sftp.root / f).read_bytes() for f in files} == {UBL, PDF}  # replaced, no .part


async def test_a_changed_host_key_is_refused_and_nothing_is_written(
    service: Service, sftp: SftpServer
) -> None:
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    await sftp_connection(service, sftp, host_key=other)
    target = SftpTarget(connection="Kantoor", folder="acme")
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)
    await submitted(service)
    assert await work(service, SftpChannel(timeout_s=5)) == ["failed"]
    [delivery] = await service.deps.ledger.page(_query())
    assert delivery.last_problem is not None
    assert delivery.last_problem.code == "sftp.host_key_mismatch"
    assert sftp.files() == []


async def test_test_connection_shows_the_servers_key_to_accept(
    service: Service, sftp: SftpServer
) -> None:
    connection = build(
        "o1",
        "New",
        Kind.SFTP,
        {"host": "127.0.0.1", "port": sftp.port, "username": sftp.username},
        {"password": sftp.password},
    )
    probe = await SftpChannel(timeout_s=5).probe(connection)
    assert probe.host_key == sftp.host_key
    assert probe.problem is not None
    assert probe.problem.code == "sftp.host_key_missing"
    connection.settings["host_key"] = probe.host_key
    assert (await SftpChannel(timeout_s=5).probe(connection)).problem is None
    # a base folder not there yet is made, as the first delivery would make it
    connection.settings["base_folder"] = "cabinet/inbox"
    assert (await SftpChannel(timeout_s=5).probe(connection)).problem is None
    assert (sftp.root / "cabinet" / "inbox").is_dir()
    connection.secrets["password"] = "wrong"
    refused = await SftpChannel(timeout_s=5).probe(connection)
    assert refused.problem is not None
    assert refused.problem.code == "sftp.login_refused"


def _query() -> Any:
    from portal_delivery.ports import DeliveryQuery

    return DeliveryQuery("o1")


__all__ = ["TransferMethod"]
