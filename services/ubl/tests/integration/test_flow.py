"""The whole intake on the real MongoDB-wire server and the real Kafka broker: DocumentReady
arrives on its topic keyed by client id, carrying references and hashes; the same input twice
(one after the other or racing) is one document and one event; an intake committed while the
broker is down is published by the next relay that runs, once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.documents import DocumentReady
from portal_contracts.values import DocumentKind
from portal_ubl.bootstrap import Service
from portal_ubl.domain.document import ClientSettings, SubmitDocument
from portal_ubl.samples import make_pdf, sample_data
from portal_ubl.service.handlers import submit_document
from services.ubl.tests.conftest import MakeService

pytestmark = pytest.mark.integration

PDF = make_pdf(2, padding=200_000)


async def read_events(
    kafka_bootstrap: str, topic: str, expected: int, timeout: float = 20.0
) -> list[Any]:
    """What is on ``topic``: ``expected`` records, plus any duplicate arriving a second later."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"g-{uuid.uuid4().hex}",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            records += [r for rs in batch.values() for r in rs]
            if len(records) >= expected:
                await asyncio.sleep(1.0)
                batch = await consumer.getmany(timeout_ms=500)
                records += [r for rs in batch.values() for r in rs]
                break
    finally:
        await consumer.stop()
    return records


def _cmd() -> SubmitDocument:
    return SubmitDocument(
        "office-1",
        "client-42",
        DocumentKind.SALES_INVOICE,
        pdf=PDF,
        pdf_filename="facture.pdf",
        data=json.dumps(sample_data(lines=10)).encode(),
    )


async def _known_client(service: Service) -> None:
    await service.deps.clients.save(ClientSettings("office-1", "client-42", 1, group_id="g"))


async def test_document_ready_on_kafka_once_for_the_same_input_twice(
    service: Service, mongo_db: Any, kafka_bootstrap: str
) -> None:
    await _known_client(service)
    first = await submit_document(_cmd(), service.deps)
    second = await submit_document(_cmd(), service.deps)
    assert first.document_id == second.document_id
    assert await mongo_db["documents"].count_documents({}) == 1
    assert await service.runtime.outbox.pending() == 1  # committed with the document

    await service.runtime.broker.start()
    try:
        await service.runtime.relay.drain()
    finally:
        await service.runtime.broker.stop()
    assert await service.runtime.outbox.pending() == 0

    topic = service.runtime.topics.of(DocumentReady)
    records = await read_events(kafka_bootstrap, topic, expected=1)
    assert len(records) == 1
    record = records[0]
    assert record.key == b"client-42"
    event = DocumentReady.model_validate(json.loads(record.value))
    assert event.payload.document_id == first.document_id
    assert event.payload.pdf is not None
    assert event.payload.ubl is not None
    assert event.payload.pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert len(record.value) < 5_000  # references and hashes, never the bytes
    assert await service.deps.blobs.get(event.payload.pdf.blob_id) == PDF
    ubl = await service.deps.blobs.get(event.payload.ubl.blob_id)
    assert hashlib.sha256(ubl).hexdigest() == event.payload.ubl.sha256


async def test_racing_intakes_of_the_same_input_store_one_document_and_one_event(
    service: Service, mongo_db: Any
) -> None:
    await _known_client(service)
    results = await asyncio.gather(*(submit_document(_cmd(), service.deps) for _ in range(4)))
    assert len({d.document_id for d in results}) == 1  # the losers return the winner
    assert await mongo_db["documents"].count_documents({}) == 1
    [record] = await mongo_db["outbox"].find({}).to_list()
    [event] = record["events"]
    assert json.loads(event["body"])["payload"]["document_id"] == results[0].document_id


async def test_an_intake_committed_while_the_broker_is_down_is_published_by_the_next_relay(
    make_service: MakeService, kafka_bootstrap: str
) -> None:
    api = make_service(kafka="127.0.0.1:1")  # its broker is never reached: the API never needs it
    await api.prepare()
    await _known_client(api)
    document = await submit_document(_cmd(), api.deps)
    assert await api.runtime.outbox.pending() == 1

    worker = make_service()  # another process, as after a crash of the first
    await worker.runtime.broker.start()
    try:
        await worker.runtime.relay.drain()
        assert await worker.runtime.relay.relay_once() == 0  # nothing left to publish twice
    finally:
        await worker.runtime.broker.stop()
    topic = worker.runtime.topics.of(DocumentReady)
    records = await read_events(kafka_bootstrap, topic, expected=1)
    assert [json.loads(r.value)["payload"]["document_id"] for r in records] == [
        document.document_id
    ]
