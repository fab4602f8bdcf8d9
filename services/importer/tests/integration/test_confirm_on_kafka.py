"""On the REAL broker: a confirmation's ImportValidated chunks go out through the outbox relay
(none over 512 KB, once however often confirmed), and ImportCommitted / ImportRejected consumed
from the broker by the worker's router move the import."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.broker import build_broker, publish_event, subscriber_options
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportCommitted,
    ImportCommittedPayload,
    ImportRejected,
    ImportRejectedPayload,
    ImportValidated,
    RejectedRow,
)
from portal_contracts.topics import Topics
from portal_importer.bootstrap import Service
from portal_importer.entrypoints.consumers import build_router
from portal_importer.samples import client_row, fill_template

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[..., dict[str, str]]


async def raw_records_on(kafka: str, topic: str, count: int, within_s: float = 60.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(within_s):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found.extend(records)
        # Anything more (a second publication) would show up now.
        extra = await consumer.getmany(timeout_ms=1500)
        for records in extra.values():
            found.extend(records)
    finally:
        await consumer.stop()
    return found


async def _confirmed_import(api: httpx.AsyncClient, auth: Auth, rows: int) -> dict[str, Any]:
    data = fill_template([client_row(n) for n in range(1, rows + 1)])
    created = await api.post("/v1/imports", files={"file": ("c.xlsx", data, XLSX)}, headers=auth())
    assert created.status_code == 201, created.text
    assert created.json()["report"]["valid"], created.json()["report"]["errors"][:3]
    url = f"/v1/imports/{created.json()['id']}"
    for _ in range(2):  # confirming twice imports once
        confirmed = await api.post(f"{url}/confirm", headers=auth())
        assert confirmed.status_code == 202, confirmed.text
    return created.json()


async def _until_status(
    api: httpx.AsyncClient, auth: Auth, import_id: str, status: str, within_s: float = 60.0
) -> dict[str, Any]:
    async with asyncio.timeout(within_s):
        while True:
            body = (await api.get(f"/v1/imports/{import_id}", headers=auth())).json()
            if body["status"] == status:
                return body
            await asyncio.sleep(0.2)


async def test_confirm_publishes_chunks_once(
    api: httpx.AsyncClient,
    auth: Auth,
    service: Service,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    relay = service.runtime.relay
    await service.runtime.broker.start()
    try:
        created = await _confirmed_import(api, auth, 1500)
        published = await relay.relay_once()
        assert published >= 2
        assert await relay.relay_once() == 0  # sent, then deleted: nothing goes twice
        assert await service.runtime.outbox.pending() == 0
    finally:
        await service.runtime.broker.stop()

    records = await raw_records_on(kafka_bootstrap, topics.of(ImportValidated), published)
    assert len(records) == published
    events = [ImportValidated.model_validate_json(r.value) for r in records]
    headers = [dict(r.headers) for r in records]
    assert {h["content-type"] for h in headers} == {b"application/json"}
    assert [h["event_id"].decode() for h in headers] == [str(e.event_id) for e in events]
    assert all(len(r.value) < MAX_CHUNK_BYTES for r in records)
    assert {r.key for r in records} == {created["id"].encode()}  # one partition, in order
    assert [e.payload.chunk_index for e in events] == list(range(published))
    assert {e.payload.chunk_count for e in events} == {published}
    assert {e.payload.version for e in events} == {1}
    rows = [row for e in events for row in e.payload.rows]
    assert [r.row_number for r in rows] == list(range(3, 1503))
    assert events[0].payload.row_count == 1500
    assert [r.invite for r in rows[:4]] == [True, False, True, False]  # "Oui"/"Non" per row
    assert rows[0].client.user.email == "client1@bureau-example.be"
    assert rows[0].client.company.vat_number == "BE0100000169"
    assert rows[0].client.bank_accounts == ["BE04539000000131"]
    assert len({e.event_id for e in events}) == published
    assert len({e.correlation_id for e in events}) == 1


async def test_a_faststream_consumer_reads_the_chunks_as_events(
    api: httpx.AsyncClient,
    auth: Auth,
    service: Service,
    kafka_bootstrap: str,
    topics: Topics,
    group_id: str,
) -> None:
    """As the clients service consumes them: a typed FastStream subscriber."""
    received: list[ImportValidated] = []
    arrived = asyncio.Event()
    consumer = build_broker(kafka_bootstrap, client_id="clients-like")

    @consumer.subscriber(topics.of(ImportValidated), **subscriber_options(group_id))
    async def on_chunk(event: ImportValidated) -> None:
        received.append(event)
        arrived.set()

    await service.runtime.broker.start()
    await consumer.start()
    try:
        created = await _confirmed_import(api, auth, 5)
        assert await service.runtime.relay.relay_once() == 1
        await asyncio.wait_for(arrived.wait(), timeout=60)
    finally:
        await consumer.stop()
        await service.runtime.broker.stop()
    assert received[0].payload.import_id == created["id"]
    assert [r.row_number for r in received[0].payload.rows] == [3, 4, 5, 6, 7]
    assert received[0].payload.rows[0].client.company.vat_number == "BE0100000169"


async def test_answers_from_the_broker_move_the_import(
    api: httpx.AsyncClient,
    auth: Auth,
    service: Service,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    committed_one = await _confirmed_import(api, auth, 3)
    rejected_one = await _confirmed_import(api, auth, 2)

    consumer = service.runtime.broker
    consumer.include_router(build_router(service))
    clients_service = build_broker(kafka_bootstrap, client_id="fake-clients-service")
    await consumer.start()
    await clients_service.start()
    try:
        correlation = uuid.uuid4()
        stale = ImportCommitted.new(
            office_id="office-a",
            payload=ImportCommittedPayload(
                import_id=committed_one["id"], version=99, client_ids={3: "nope"}
            ),
            correlation_id=correlation,
        )
        committed = ImportCommitted.new(
            office_id="office-a",
            payload=ImportCommittedPayload(
                import_id=committed_one["id"], version=1, client_ids={3: "c-3", 4: "c-4", 5: "c-5"}
            ),
            correlation_id=correlation,
        )
        rejected = ImportRejected.new(
            office_id="office-a",
            payload=ImportRejectedPayload(
                import_id=rejected_one["id"],
                version=1,
                rows=[RejectedRow(row_number=4, field="user.email", code="email.taken")],
            ),
        )
        for event in (stale, committed, committed, rejected):  # a stale and a repeated answer
            await publish_event(clients_service, topics, event)

        done = await _until_status(api, auth, committed_one["id"], "done")
        assert done["clients_created"] == 3
        kept = await service.runtime.db["import_answers"].find_one(
            {"_id": f"{committed_one['id']}:1:committed:0"}
        )
        assert kept is not None
        assert kept["content"] == [[3, "c-3"], [4, "c-4"], [5, "c-5"]]

        back = await _until_status(api, auth, rejected_one["id"], "pending")
        assert [(e["row"], e["column"], e["code"]) for e in back["report"]["errors"]] == [
            (4, "Adresse e-mail *", "email.taken")
        ]
        assert back["report"]["valid"] is False
        refused = await api.post(f"/v1/imports/{rejected_one['id']}/confirm", headers=auth())
        assert refused.status_code == 422

        # The accountant replaces the e-mail; the flag goes, the import can be confirmed again.
        fixed = await api.patch(
            f"/v1/imports/{rejected_one['id']}/rows/4",
            json={"cells": {"user.email": "autre@bureau-example.be"}},
            headers=auth(),
        )
        assert fixed.json()["report"]["valid"] is True
        again = await api.post(f"/v1/imports/{rejected_one['id']}/confirm", headers=auth())
        assert again.status_code == 202
        assert again.json()["version"] == 2  # the new confirmation goes out as version 2
    finally:
        await clients_service.stop()
        await consumer.stop()
