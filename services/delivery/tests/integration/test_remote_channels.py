"""The OneDrive and Clearfacts channels against their local fakes (which refuse what the real
APIs refuse), driven through the handlers and the real ledger (MongoDB), so retries, waits and
receipts are what production records."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from portal_contracts.clients import ApiTarget, OneDriveTarget, SendTiming, Timing
from portal_delivery.adapters.channels.clearfacts import ClearfactsChannel
from portal_delivery.adapters.channels.onedrive import FRAGMENT_UNIT, OneDriveChannel
from portal_delivery.adapters.channels.quickxor import quickxor
from portal_delivery.adapters.secrets import SecretBox
from portal_delivery.bootstrap import Service
from portal_delivery.domain.connections import Kind, build
from portal_delivery.domain.delivery import State
from portal_delivery.entrypoints.messages import MESSAGES
from portal_delivery.entrypoints.schemas import DeliveryPublic
from portal_delivery.ports import DeliveryQuery
from portal_delivery.service.planning import remember_client_route
from portal_delivery.service.sending import deliver_requested
from portal_servicekit.problems import register_messages
from services.delivery.tests.conftest import (
    CLEARFACTS_TOKEN,
    GRAPH_CLIENT,
    GRAPH_DRIVE,
    GRAPH_SECRET,
    GRAPH_TENANT,
    ClearfactsServer,
    GraphServer,
)
from services.delivery.tests.fakes import FixedClock
from services.delivery.tests.integration.test_channels import (
    PDF,
    UBL,
    outbox_requests,
    stored_blob,
    submitted,
    work,
)
from services.delivery.tests.samples import document_ready, snapshot

pytestmark = pytest.mark.integration

IMMEDIATELY = Timing(when=SendTiming.IMMEDIATELY)


async def onedrive_client(service: Service, folder: str = "acme", **secrets: str) -> None:
    connection = build(
        "o1",
        "Microsoft 365",
        Kind.ONEDRIVE,
        {
            "tenant_id": GRAPH_TENANT,
            "client_id": GRAPH_CLIENT,
            "drive_id": GRAPH_DRIVE,
            "base_folder": "Boekhouding",
        },
        secrets or {"client_secret": GRAPH_SECRET},
    )
    await service.deps.connections.save(connection, 0)
    target = OneDriveTarget(folder=folder)
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)


def onedrive(graph: GraphServer, **options: Any) -> OneDriveChannel:
    return OneDriveChannel(graph_url=graph.url, login_url=graph.login_url, timeout_s=10, **options)


async def the_delivery(service: Service) -> Any:
    [delivery] = await service.deps.ledger.page(DeliveryQuery("o1"))
    return delivery


async def large_document(service: Service, size: int) -> bytes:
    """A PDF-only document of ``size`` bytes (an upload session above 4 MiB)."""
    data = b"%PDF-1.7\n" + os.urandom(size - 9)
    pdf = await stored_blob(service, data, "scan.pdf", "application/pdf")
    await remember_client_route(
        "o1", snapshot(2, target=OneDriveTarget(folder="acme"), timing=IMMEDIATELY), service.deps
    )
    from portal_delivery.service.planning import plan_document

    event = document_ready(pdf)
    payload = event.payload.model_copy(update={"ubl": None, "pdf": pdf})
    await plan_document(event.model_copy(update={"payload": payload}), service.deps)
    return data


async def test_onedrive_puts_the_files_in_the_clients_folder_with_graphs_receipt(
    service: Service, graph: GraphServer
) -> None:
    await onedrive_client(service)
    await submitted(service)
    channel = onedrive(graph)
    assert await work(service, channel) == ["sent"]
    files = {f["path"]: f for f in graph.fake.files()}
    assert sorted(files) == sorted(
        f"Boekhouding/acme/sales/{name}" for name in {f["name"] for f in files.values()}
    )
    assert {f["size"] for f in files.values()} == {len(UBL), len(PDF)}
    delivery = await the_delivery(service)
    assert delivery.state is State.SENT
    receipt = delivery.attempts[-1].receipt
    for written in receipt["files"]:  # what Graph reported: item id, size, quickXorHash
        stored = files[written["path"]]
        assert written["item_id"] == stored["id"]
        assert written["quickXorHash"] == stored["file"]["hashes"]["quickXorHash"]
    assert [p.rsplit(".", 1)[1] for p in (w["path"] for w in receipt["files"])] == ["pdf", "xml"]
    # A second document of the client: its folders are known, nothing is created again.
    posts_before = sum(1 for m, p, _ in graph.fake.requests if m == "POST" and "children" in p)
    await submitted(service)
    assert await work(service, channel) == ["sent"]
    posts = sum(1 for m, p, _ in graph.fake.requests if m == "POST" and "children" in p)
    assert posts == posts_before == 3  # Boekhouding, acme, sales: once
    await channel.aclose()


async def test_graph_throttled_three_times_waits_as_told_then_one_file(
    service: Service, graph: GraphServer
) -> None:
    clock = FixedClock(service.deps.clock.now())
    service.deps.clock = clock
    await onedrive_client(service)
    await submitted(service)
    waits = [120, 300, 600]  # above the back-off of each try: Retry-After decides
    for wait in waits:
        graph.fake.throttle(1, retry_after=wait)
    channel = onedrive(graph)
    for wait in waits:
        assert await work(service, channel) == ["retry"]
        delivery = await the_delivery(service)
        assert delivery.state is State.SCHEDULED
        assert delivery.due_at == clock.now() + timedelta(seconds=wait)  # no sleep in a worker
        clock.advance(timedelta(seconds=wait - 1))
        from portal_delivery.service.sending import dispatch_due

        assert await dispatch_due(service.deps) == 0  # not before Retry-After
        clock.advance(timedelta(seconds=1))
        assert await dispatch_due(service.deps) == 1
    assert await work(service, channel) == ["sent"]
    assert len(graph.fake.files()) == 2
    delivery = await the_delivery(service)
    register_messages(MESSAGES)  # as the API does
    shown = DeliveryPublic.of(delivery, "en")
    tried = [(a.outcome, a.problem, a.retry_at) for a in shown.attempts]
    assert [t[0] for t in tried] == ["retry", "retry", "retry", "sent"]
    for (_, problem, retry_at), attempt, wait in zip(tried, delivery.attempts, waits, strict=False):
        assert problem is not None
        assert "throttl" in problem.lower()
        assert attempt.problem["retry_after_s"] == wait
        assert retry_at == attempt.finished_at + timedelta(seconds=wait)
    await channel.aclose()


async def test_a_large_file_goes_in_fragments_without_the_token_and_resumes_after_a_drop(
    service: Service, graph: GraphServer
) -> None:
    await onedrive_client(service)
    data = await large_document(service, 5 * 1024 * 1024 + 12345)
    graph.fake.drop_fragment(3)  # the third fragment's connection breaks: no answer
    channel = onedrive(graph, fragment_units=2)
    assert await work(service, channel) == ["sent"]
    [stored] = graph.fake.files()
    assert stored["size"] == len(data)
    assert stored["file"]["hashes"]["quickXorHash"] == quickxor(data)
    item = graph.fake.items[stored["id"]]
    assert hashlib.sha256(item.data).hexdigest() == hashlib.sha256(data).hexdigest()
    uploads = [(m, had_auth) for m, p, had_auth in graph.fake.requests if p.startswith("/upload/")]
    assert ("GET", False) in uploads  # it asked the session where to go on
    assert all(not had_auth for _, had_auth in uploads)  # never the bearer token
    fragments = -(-len(data) // (2 * FRAGMENT_UNIT))
    assert graph.fake.stats["fragments"] == fragments + 1  # the dropped one, once more
    await channel.aclose()


async def test_a_worker_killed_mid_file_is_resumed_on_the_same_session(
    service: Service, graph: GraphServer
) -> None:
    """The session URL is noted (sealed) as soon as it exists: the attempt resumed after the
    lease by another worker (another process: nothing in memory) continues the same session."""
    await onedrive_client(service)
    data = await large_document(service, 5 * 1024 * 1024)
    box = SecretBox([os.urandom(32)])
    graph.fake.fragment_delay_s = 0.2
    [request] = await outbox_requests(service)
    dying = asyncio.create_task(
        deliver_requested(request, onedrive(graph, fragment_units=1, box=box), service.deps)
    )
    while graph.fake.stats["fragments"] < 4:  # noqa: ASYNC110 - the fake's counter, polled
        await asyncio.sleep(0.05)
    dying.cancel()  # the worker dies: nothing recorded
    with pytest.raises(asyncio.CancelledError):
        await dying
    sent_before = graph.fake.stats["fragments"]
    graph.fake.fragment_delay_s = 0.0
    later = service.deps.clock.now() + timedelta(seconds=10)
    assert await service.deps.ledger.dispatch_due(later, service.deps.lease, 10) == 1
    [again] = await outbox_requests(service)
    assert again.payload.attempt == 1  # the same attempt, resumed
    other_worker = onedrive(graph, fragment_units=1, box=box)
    assert await deliver_requested(again, other_worker, service.deps) == "sent"
    [stored] = graph.fake.files()
    assert stored["file"]["hashes"]["quickXorHash"] == quickxor(data)
    total = -(-len(data) // FRAGMENT_UNIT)
    assert graph.fake.stats["fragments"] < total + sent_before  # not started over
    assert graph.fake.stats["sessions"] == 1
    delivery = await the_delivery(service)
    noted = delivery.attempts[-1].progress["upload_pdf"]["url"]
    assert "/upload/" not in noted  # sealed in the ledger
    await other_worker.aclose()


async def test_a_certificate_credential_gets_a_token_and_a_wrong_secret_fails_at_once(
    service: Service, graph: GraphServer
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    graph.fake.certificates[GRAPH_CLIENT] = cert_pem
    await onedrive_client(service, certificate=key_pem + cert_pem)
    await submitted(service)
    channel = onedrive(graph)
    assert await work(service, channel) == ["sent"]
    await channel.aclose()

    stored = await service.deps.connections.get("o1", "Microsoft 365")
    assert stored is not None
    wrong = build("o1", "Microsoft 365", Kind.ONEDRIVE, stored.settings, {"client_secret": "wrong"})
    await service.deps.connections.save(wrong, stored.version)
    await submitted(service)
    channel = onedrive(graph)  # a new connection version: a new token
    assert await work(service, channel) == ["failed"]
    [failed] = await service.deps.ledger.page(DeliveryQuery("o1", states=frozenset({State.FAILED})))
    assert failed.last_problem is not None
    assert failed.last_problem.code == "onedrive.credentials_refused"
    assert "AADSTS7000215" in failed.last_problem.detail
    assert "wrong" not in failed.last_problem.detail
    await channel.aclose()


# --- Clearfacts -------------------------------------------------------------------------------


async def clearfacts_client(service: Service) -> None:
    connection = build("o1", "Clearfacts", Kind.CLEARFACTS, {}, {"token": CLEARFACTS_TOKEN})
    await service.deps.connections.save(connection, 0)
    await remember_client_route(
        "o1", snapshot(1, target=ApiTarget(), timing=IMMEDIATELY), service.deps
    )


async def test_clearfacts_uploads_the_ubl_as_a_sale_and_keeps_its_uuid(
    service: Service, clearfacts: ClearfactsServer
) -> None:
    await clearfacts_client(service)
    await submitted(service)
    channel = ClearfactsChannel(url=clearfacts.url, timeout_s=10)
    assert await work(service, channel) == ["sent"]
    [upload] = clearfacts.fake.uploads
    assert (upload["vat"], upload["type"]) == ("0403170701", "SALE")
    assert upload["sha256"] == hashlib.sha256(UBL).hexdigest()  # the UBL alone
    delivery = await the_delivery(service)
    assert delivery.attempts[-1].receipt["uuid"] == upload["uuid"]
    assert delivery.attempts[-1].sent == [
        {"name": delivery.files[0].name, "sha256": upload["sha256"], "size": len(UBL)}
    ]
    await channel.aclose()


async def test_clearfacts_refusing_fails_with_the_reason_in_the_accountants_language(
    service: Service, clearfacts: ClearfactsServer
) -> None:
    await clearfacts_client(service)
    await submitted(service)
    clearfacts.fake.fail_next("Internal server error")  # transient: tried again
    channel = ClearfactsChannel(url=clearfacts.url, timeout_s=10)
    assert await work(service, channel) == ["retry"]
    await service.runtime.db["deliveries"].update_one(
        {}, {"$set": {"due_at": service.deps.clock.now()}}
    )
    from portal_delivery.service.sending import dispatch_due

    assert await dispatch_due(service.deps) == 1
    clearfacts.fake.fail_next("The administration 0403170701 is archived.")
    assert await work(service, channel) == ["failed"]
    delivery = await the_delivery(service)
    assert delivery.state is State.FAILED
    assert clearfacts.fake.uploads == []
    register_messages(MESSAGES)  # as the API does
    for lang, words in (
        ("nl", "Clearfacts weigerde"),
        ("fr", "Clearfacts a refusé"),
        ("en", "Clearfacts refused"),
    ):
        shown = DeliveryPublic.of(delivery, lang)
        assert shown.last_error is not None
        assert words in shown.last_error
        assert "archived" in shown.last_error  # Clearfacts' own words beside ours
    await channel.aclose()


async def test_a_retry_after_a_crash_past_the_upload_does_not_upload_twice(
    service: Service, clearfacts: ClearfactsServer
) -> None:
    await clearfacts_client(service)
    await submitted(service)
    [request] = await outbox_requests(service)

    class DiesAfterTheUpload(ClearfactsChannel):
        async def deliver(self, parcel: Any) -> Any:
            await super().deliver(parcel)
            raise asyncio.CancelledError  # the worker dies before recording "sent"

    with pytest.raises(asyncio.CancelledError):
        await deliver_requested(request, DiesAfterTheUpload(url=clearfacts.url), service.deps)
    later = service.deps.clock.now() + timedelta(seconds=10)
    assert await service.deps.ledger.dispatch_due(later, service.deps.lease, 10) == 1
    [again] = await outbox_requests(service)
    channel = ClearfactsChannel(url=clearfacts.url)
    assert await deliver_requested(again, channel, service.deps) == "sent"
    [upload] = clearfacts.fake.uploads  # once
    delivery = await the_delivery(service)
    assert delivery.attempts[-1].receipt["uuid"] == upload["uuid"]
    await channel.aclose()


async def test_clearfacts_gets_at_most_two_uploads_at_once_per_token(
    service: Service, clearfacts: ClearfactsServer
) -> None:
    await clearfacts_client(service)
    for _ in range(6):
        await submitted(service)
    clearfacts.fake.delay_s = 0.2
    channel = ClearfactsChannel(url=clearfacts.url, uploads_per_token=2)
    requests = await outbox_requests(service)
    outcomes = await asyncio.gather(
        *(deliver_requested(r, channel, service.deps) for r in requests)
    )
    assert outcomes == ["sent"] * 6
    assert clearfacts.fake.max_in_flight == 2
    await channel.aclose()
