"""The one outbox relay on the real Kafka broker and MongoDB-wire server: what a transaction
committed goes out in order, keyed by aggregate id, once; what it aborted never does; a second
replica stands by; a failed publish keeps the events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from portal_contracts.broker import build_broker
from portal_contracts.delivery import DocumentDelivered, DocumentDeliveredPayload
from portal_contracts.topics import Topics
from portal_contracts.values import TransferMethod
from portal_servicekit.mongo import in_transaction
from portal_servicekit.outbox import EVENTS_PER_RECORD, Outbox, OutboxRelay, records_of

pytestmark = pytest.mark.integration


def delivered(document_id: str, receipt: str = "250 queued") -> DocumentDelivered:
    return DocumentDelivered.new(
        office_id="office-1",
        payload=DocumentDeliveredPayload(
            document_id=document_id,
            client_id="client-1",
            channel=TransferMethod.EMAIL,
            receipt=receipt,
            delivered_at=datetime.now(UTC),
        ),
    )


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.close()


async def consume(kafka_bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    received: list[Any] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < count:
                batch = await consumer.getmany(timeout_ms=500)
                received += [r for records in batch.values() for r in records]
        await asyncio.sleep(0.5)  # and nothing more arrives
        received += [r for rs in (await consumer.getmany(timeout_ms=500)).values() for r in rs]
    finally:
        await consumer.stop()
    return received


async def test_committed_events_go_out_in_order_keyed_and_once(
    client: Any, database_name: str, kafka_bootstrap: str, topics: Topics
) -> None:
    db = client[database_name]
    outbox = Outbox(db)
    await db.create_collection("documents")
    events = [delivered("doc-1", f"receipt {i}") for i in range(3)] + [delivered("doc-2")]

    async def work(session: Any) -> None:
        await db["documents"].insert_one({"_id": "doc-1"}, session=session)
        await outbox.add(events[:2], session=session)
        await outbox.add(events[2:], session=session)

    await in_transaction(client, work)

    async def aborted(session: Any) -> None:
        await outbox.add([delivered("doc-never")], session=session)
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        await in_transaction(client, aborted)

    broker = build_broker(kafka_bootstrap, client_id="relay-test")
    await broker.start()
    relay = OutboxRelay(broker, topics, db, name="test")
    try:
        assert await relay.relay_once() == 4
        assert await outbox.pending() == 0
        assert await relay.relay_once() == 0
    finally:
        await broker.stop()
    received = await consume(kafka_bootstrap, topics.of(DocumentDelivered), 4)
    assert [json.loads(r.value)["event_id"] for r in received] == [str(e.event_id) for e in events]
    assert [r.key for r in received] == [b"doc-1"] * 3 + [b"doc-2"]
    headers = dict(received[0].headers)
    assert headers["event_id"] == str(events[0].event_id).encode()
    assert headers["event_type"] == b"DocumentDelivered"


async def test_a_second_replica_stands_by_while_the_first_relays(
    client: Any, database_name: str, kafka_bootstrap: str, topics: Topics
) -> None:
    db = client[database_name]
    await Outbox(db).add([delivered("doc-1")], session=None)
    broker = build_broker(kafka_bootstrap, client_id="relay-test")
    await broker.start()
    first, second = (OutboxRelay(broker, topics, db, name="svc") for _ in range(2))
    try:
        assert await first.relay_once() == 1
        await Outbox(db).add([delivered("doc-2")], session=None)
        assert await second.relay_once() == 0  # the first holds the lease
        assert await Outbox(db).pending() == 1
        await first.stop()  # releases the lease: the other takes over at once
        assert await second.relay_once() == 1
    finally:
        await broker.stop()


async def test_a_failed_publish_keeps_the_events(
    client: Any, database_name: str, topics: Topics
) -> None:
    db = client[database_name]
    await Outbox(db).add([delivered("doc-1")], session=None)
    broker = build_broker("127.0.0.1:1", client_id="nowhere")  # never started: publish fails
    relay = OutboxRelay(broker, topics, db, name="svc")
    with pytest.raises(Exception):  # noqa: B017,PT011 - whatever the client raises
        await relay.relay_once()
    assert await Outbox(db).pending() == 1


async def test_a_woken_relay_publishes_without_waiting_for_its_poll(
    client: Any, database_name: str, kafka_bootstrap: str, topics: Topics
) -> None:
    db = client[database_name]
    broker = build_broker(kafka_bootstrap, client_id="relay-test")
    await broker.start()
    relay = OutboxRelay(broker, topics, db, name="svc", poll_interval_s=30)
    relay.start()
    try:
        await asyncio.sleep(0.5)  # its first pass found nothing; next poll in 30 s
        await Outbox(db).add([delivered(f"doc-{uuid.uuid4().hex}")], session=None)
        async with asyncio.timeout(10):  # the change stream (or a wake) brings it forward
            while await Outbox(db).pending():  # noqa: ASYNC110 - polling the database itself
                await asyncio.sleep(0.05)
    finally:
        await relay.stop()
        await broker.stop()


def test_many_events_are_split_into_bounded_records() -> None:
    events = [delivered(f"doc-{i}") for i in range(EVENTS_PER_RECORD * 2 + 1)]
    records = records_of(events)
    assert [len(r["events"]) for r in records] == [EVENTS_PER_RECORD, EVENTS_PER_RECORD, 1]
    assert [e["id"] for r in records for e in r["events"]] == [str(e.event_id) for e in events]
