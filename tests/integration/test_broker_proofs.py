"""Proofs that the reliability settings of contracts.broker hold on a REAL Kafka broker and MongoDB-wire server.

(a) a ClientCreated published through the contracts helper is stored by a FastStream subscriber
    through PyMongo's async client, and redelivering it changes nothing (unique index on event_id);
(b) a handler that keeps raising is retried a bounded number of times, then the message lands on
    the dead-letter topic with the error, and the partition moves on;
(c) a message whose handler raised is never committed: a restarted consumer gets it again.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from pymongo.errors import DuplicateKeyError

from portal_contracts.broker import build_broker, publish_event, subscriber_options
from portal_contracts.clients import (
    ClientCreated,
    ClientCreatedPayload,
    ClientSnapshot,
    ClientUser,
    Company,
    VatCheck,
)
from portal_contracts.topics import Topics
from portal_contracts.values import ClientStatus, Language, SubscriptionMode, VatFrequency

pytestmark = pytest.mark.integration

WAIT_S = 45.0


def client_created(office_id: str = "office-1") -> ClientCreated:
    now = datetime.now(UTC)
    snapshot = ClientSnapshot(
        client_id=str(uuid.uuid4()),
        version=1,
        status=ClientStatus.NOT_INVITED,
        vat_check=VatCheck.SKIPPED,
        created_at=now,
        updated_at=now,
        company=Company(
            vat_number="BE0403170701",
            name="Boulangerie Peeters",
            vat_frequency=VatFrequency.QUARTERLY,
            subscription_mode=SubscriptionMode.FULL_FOLLOW_UP,
        ),
        user=ClientUser(
            first_name="An",
            last_name="Peeters",
            email="an@peeters.be",
            mobile_phone="+32470123456",
            language=Language.NL,
        ),
        group_id="everyone",
    )
    return ClientCreated.new(office_id=office_id, payload=ClientCreatedPayload(client=snapshot))


async def wait_until(predicate: Any, timeout: float = WAIT_S, message: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        await asyncio.sleep(0.1)


async def read_all(bootstrap: str, topic: str, expected: int, timeout: float = WAIT_S) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def test_a_client_created_is_stored_once_even_when_redelivered(
    kafka_bootstrap: str, topics: Topics, group_id: str, mongo_db: Any
) -> None:
    inbox = mongo_db["inbox"]
    await inbox.create_index("event_id", unique=True)
    broker = build_broker(kafka_bootstrap, client_id="proof-a")
    handled: list[str] = []

    @broker.subscriber(topics.of(ClientCreated), **subscriber_options(group_id))
    async def store(event: ClientCreated) -> None:
        handled.append(str(event.event_id))
        try:
            await inbox.insert_one(
                {
                    "event_id": str(event.event_id),
                    "client_id": event.payload.client.client_id,
                    "office_id": event.office_id,
                }
            )
        except DuplicateKeyError:
            pass  # already stored: the redelivery is absorbed, nothing changes

    event = client_created()
    await broker.start()
    try:
        await publish_event(broker, topics, event)
        await publish_event(broker, topics, event)  # the same event, delivered again
        await wait_until(lambda: _ready(len(handled) >= 2), message="both deliveries handled")
    finally:
        await broker.stop()
    assert handled == [str(event.event_id)] * 2
    assert await inbox.count_documents({}) == 1
    stored = await inbox.find_one({"event_id": str(event.event_id)})
    assert stored is not None
    assert stored["client_id"] == event.payload.client.client_id


async def _ready(value: bool) -> bool:
    return value


async def test_b_a_poison_message_is_retried_then_dead_lettered_and_the_partition_moves_on(
    kafka_bootstrap: str, topics: Topics, group_id: str
) -> None:
    broker = build_broker(kafka_bootstrap, client_id="proof-b", max_attempts=3)
    topic = topics.of(ClientCreated)
    attempts: dict[str, int] = {}
    done: list[str] = []
    poison, healthy = client_created(), client_created()

    @broker.subscriber(topic, **subscriber_options(group_id))
    async def handle(event: ClientCreated) -> None:
        key = str(event.event_id)
        attempts[key] = attempts.get(key, 0) + 1
        if event.event_id == poison.event_id:
            raise RuntimeError("the register is on fire")
        done.append(key)

    await broker.start()
    try:
        # Same key → same partition: the healthy event sits behind the poison one.
        healthy_same_partition = healthy.model_copy(update={"payload": poison.payload})
        await publish_event(broker, topics, poison)
        await publish_event(broker, topics, healthy_same_partition)
        await wait_until(
            lambda: _ready(str(healthy_same_partition.event_id) in done),
            message="the event behind the poison one was handled",
        )
    finally:
        await broker.stop()
    assert attempts[str(poison.event_id)] == 3  # bounded: exactly max_attempts
    dead = await read_all(kafka_bootstrap, topics.dead_letter(topic), expected=1)
    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert headers["dlt-error"] == "RuntimeError: the register is on fire"
    assert headers["dlt-attempts"] == "3"
    assert headers["dlt-topic"] == topic
    assert ClientCreated.model_validate_json(dead[0].value).event_id == poison.event_id


async def test_c_a_failed_message_is_not_committed_and_comes_back_after_a_restart(
    kafka_bootstrap: str, topics: Topics, group_id: str
) -> None:
    topic = topics.of(ClientCreated)
    event = client_created()
    seen_by_first: list[str] = []

    first = build_broker(kafka_bootstrap, client_id="proof-c1", max_attempts=1000)

    @first.subscriber(topic, **subscriber_options(group_id))
    async def crashes(event: ClientCreated) -> None:
        seen_by_first.append(str(event.event_id))
        raise RuntimeError("crash before the effect is durable")

    await first.start()
    try:
        await publish_event(first, topics, event)
        await wait_until(
            lambda: _ready(len(seen_by_first) >= 2), message="first consumer failed twice"
        )
    finally:
        await first.stop()
    assert await _committed(kafka_bootstrap, topic, group_id) in (None, 0)

    seen_after_restart: list[str] = []
    second = build_broker(kafka_bootstrap, client_id="proof-c2")

    @second.subscriber(topic, **subscriber_options(group_id))
    async def works(event: ClientCreated) -> None:
        seen_after_restart.append(str(event.event_id))

    await second.start()
    try:
        await wait_until(
            lambda: _ready(bool(seen_after_restart)), message="redelivered after restart"
        )
        await wait_until(
            lambda: _committed_is(kafka_bootstrap, topic, group_id, 1),
            message="offset committed after success",
        )
    finally:
        await second.stop()
    assert seen_after_restart == [str(event.event_id)]


async def _committed(bootstrap: str, topic: str, group_id: str) -> int | None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        offsets = [await consumer.committed(TopicPartition(topic, p)) for p in sorted(partitions)]
    finally:
        await consumer.stop()
    known = [o for o in offsets if o is not None]
    return sum(known) if known else None


async def _committed_is(bootstrap: str, topic: str, group_id: str, expected: int) -> bool:
    return await _committed(bootstrap, topic, group_id) == expected


async def test_the_broker_grants_our_producer_an_idempotent_id_with_acks_all(
    kafka_bootstrap: str, topics: Topics
) -> None:
    broker: KafkaBroker = build_broker(kafka_bootstrap, client_id="settings")
    await broker.start()
    try:
        await publish_event(broker, topics, client_created())
        # faststream wraps aiokafka's producer; reach it to check what the broker agreed to.
        producer = broker.config.broker_config.producer._producer.producer  # type: ignore[attr-defined]
        assert producer._sender._acks == -1  # acks=all
        assert producer._txn_manager is not None  # idempotence enabled...
        assert producer._txn_manager.producer_id >= 0  # ...and a producer id granted by the broker
    finally:
        await broker.stop()


async def test_an_outage_is_retried_until_it_ends_and_never_dead_lettered(
    kafka_bootstrap: str, topics: Topics, group_id: str
) -> None:
    from pymongo.errors import AutoReconnect

    broker = build_broker(kafka_bootstrap, client_id="proof-outage", max_attempts=2)
    outage_left = [5]  # more failures than max_attempts
    handled: list[str] = []

    @broker.subscriber(topics.of(ClientCreated), **subscriber_options(group_id))
    async def handle(event: ClientCreated) -> None:
        if outage_left[0] > 0:
            outage_left[0] -= 1
            raise AutoReconnect("connection to the database lost")
        handled.append(str(event.event_id))

    event = client_created()
    await broker.start()
    try:
        await publish_event(broker, topics, event)
        await wait_until(lambda: _ready(bool(handled)), message="handled once the outage ended")
    finally:
        await broker.stop()
    assert handled == [str(event.event_id)]
    dead = await read_all(
        kafka_bootstrap, topics.dead_letter(topics.of(ClientCreated)), expected=1, timeout=3
    )
    assert dead == []
