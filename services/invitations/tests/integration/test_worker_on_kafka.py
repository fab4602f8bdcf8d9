"""On the REAL broker: ClientCreated(invite) consumed → e-mail received by a real aiosmtpd →
accepted over HTTP → ClientInvited and ClientActivated published (through the outbox)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import ClientActivated, ClientCreated, ClientInvited
from portal_contracts.office import OfficeProfileChanged, OfficeProfileChangedPayload
from portal_contracts.topics import Topics
from portal_contracts.values import Language
from portal_invitations.entrypoints.worker import create_worker

from ..support import client_created, token_in

pytestmark = pytest.mark.integration

OFFICE = "office-a"


async def events_on(kafka: str, topic: str, count: int, within_s: float = 40.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,  # the topic may be created after we subscribe
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(within_s):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found.extend(json.loads(r.value) for r in records)
    finally:
        await consumer.stop()
    return found


async def until_recorded(h: Any, client_id: str, last_name: str, within_s: float = 60.0) -> None:
    async with asyncio.timeout(within_s):
        while True:
            doc = await h.document(client_id)
            if doc is not None and doc["client"]["last_name"] == last_name:
                return
            await asyncio.sleep(0.1)


async def test_client_created_with_invite_to_client_activated(
    make_harness: Any, kafka_bootstrap: str, topics: Topics, group_id: str, clock: Any
) -> None:
    clock.follow_real_time()
    h = await make_harness(kafka=kafka_bootstrap, prefix=topics.prefix, consumer_group=group_id)
    worker = create_worker(h.service)
    await worker.start()
    producer = build_broker(kafka_bootstrap, client_id="test-clients-service")
    await producer.start()
    try:
        event = client_created(OFFICE, "c-1", invite=True, language="en")
        await publish_event(producer, topics, event)
        await publish_event(producer, topics, event)  # redelivered: still one e-mail
        # Same key, so same partition, consumed after the duplicate: once its change is visible
        # the duplicate has been handled too.
        marker = client_created(OFFICE, "c-1", version=2, last_name="Dubois-Marker", language="en")
        await publish_event(producer, topics, marker)
        await until_recorded(h, "c-1", "Dubois-Marker")
        received_all = await h.smtp.handler.wait_for(1, within_s=60)
        assert len(received_all) == 1, [
            (r.message["Message-ID"], r.message["To"]) for r in received_all
        ]
        (received,) = received_all
        assert (
            str(received.message["Subject"])
            == "Fiduciaire Dupont invites you to your client portal"
        )

        (invited,) = await events_on(kafka_bootstrap, topics.of(ClientInvited), 1)
        assert invited["payload"]["client_id"] == "c-1"
        assert invited["payload"]["email"] == "marie@example.be"
        assert invited["correlation_id"] == str(event.correlation_id)
        assert invited["causation_id"] == str(event.event_id)

        body = {
            "token": token_in(received),
            "password": "cheval correct agrafe pile",
            "mobile_phone": "+32 470 12 34 56",
        }
        accepted = await h.http.post("/v1/invitations/accept", json=body)
        assert accepted.status_code == 200, accepted.text

        (activated,) = await events_on(kafka_bootstrap, topics.of(ClientActivated), 1)
        assert activated["office_id"] == OFFICE
        assert activated["payload"] == {"client_id": "c-1", "by": "client"}
        assert len(h.smtp.handler.received) == 1
    finally:
        await producer.stop()
        await worker.stop()


async def test_an_unreadable_record_is_set_aside_and_its_batch_goes_on(
    make_harness: Any, kafka_bootstrap: str, topics: Topics, group_id: str, clock: Any
) -> None:
    clock.follow_real_time()
    h = await make_harness(kafka=kafka_bootstrap, prefix=topics.prefix, consumer_group=group_id)
    producer = build_broker(kafka_bootstrap, client_id="test-clients-service")
    await producer.start()
    topic = topics.of(ClientCreated)
    try:
        # Published before the worker starts, so they come in one batch.
        await producer.publish(b"{not json", topic=topic, key=b"c-0")
        await producer.publish({"event_type": "ClientCreated"}, topic=topic, key=b"c-0")
        for n in (1, 2):
            event = client_created(OFFICE, f"c-{n}", email=f"c{n}@example.be", invite=True)
            await publish_event(producer, topics, event)
        worker = create_worker(h.service)
        await worker.start()
        try:
            await until_recorded(h, "c-2", "Dubois")
            await until_recorded(h, "c-1", "Dubois")
            set_aside = await events_on_raw(kafka_bootstrap, topic + ".dlt", 2)
            assert sorted(r.value for r in set_aside) == [
                b'{"event_type":"ClientCreated"}',
                b"{not json",
            ]
            headers = dict(set_aside[0].headers)
            assert headers["dlt-topic"] == topic.encode()
            assert len(await h.smtp.handler.wait_for(2, within_s=60)) == 2
        finally:
            await worker.stop()
    finally:
        await producer.stop()


async def events_on_raw(kafka: str, topic: str, count: int, within_s: float = 40.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(within_s):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found.extend(records)
    finally:
        await consumer.stop()
    return found


async def test_office_profile_changed_on_the_broker_names_the_office(
    make_harness: Any, kafka_bootstrap: str, topics: Topics, group_id: str, clock: Any
) -> None:
    """The worker keeps the newest OfficeProfileChanged from clients (a late older one and a
    record nobody can read change nothing; the latter is set aside)."""
    clock.follow_real_time()
    h = await make_harness(kafka=kafka_bootstrap, prefix=topics.prefix, consumer_group=group_id)
    producer = build_broker(kafka_bootstrap, client_id="test-clients-service")
    await producer.start()

    def changed(version: int, name: str) -> OfficeProfileChanged:
        payload = OfficeProfileChangedPayload(
            version=version, name=name, languages=[Language.NL], sender_name=f"{name} via OkiOki"
        )
        return OfficeProfileChanged.new(office_id="office-p", payload=payload)

    try:
        await publish_event(producer, topics, changed(2, "Kantoor Peeters"))
        await publish_event(producer, topics, changed(1, "Oude naam"))
        await producer.publish(b"{not json", topic=topics.of(OfficeProfileChanged), key=b"x")
        await publish_event(producer, topics, changed(3, "Kantoor Peeters & Co"))
        worker = create_worker(h.service)
        await worker.start()
        try:
            profile = await _newest_profile(h, "office-p", "Kantoor Peeters & Co")
            assert profile.sender_name == "Kantoor Peeters & Co via OkiOki"
            assert profile.languages == ("nl",)
            (poison,) = await events_on_raw(
                kafka_bootstrap, topics.of(OfficeProfileChanged) + ".dlt", 1
            )
            assert poison.value == b"{not json"
        finally:
            await worker.stop()
    finally:
        await producer.stop()


async def _newest_profile(h: Any, office_id: str, name: str, within_s: float = 60.0) -> Any:
    async with asyncio.timeout(within_s):
        while True:
            profile = await h.service.deps.offices.profile_of(office_id)
            if profile is not None and profile.name == name:
                return profile
            await asyncio.sleep(0.1)
