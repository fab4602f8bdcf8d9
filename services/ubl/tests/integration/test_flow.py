"""The whole intake on the real FerretDB and the real Kafka broker: DocumentReady arrives on its
topic keyed by client id, carrying references and hashes; twice the same input is one document
and one event; a broker outage loses nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from portal_contracts.broker import build_broker
from portal_contracts.documents import DocumentReady
from portal_contracts.topics import Topics
from portal_contracts.values import DocumentKind
from portal_servicekit.outbox import PENDING
from portal_ubl.bootstrap import wire
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.service.handlers import submit_document
from portal_ubl.testing import make_pdf, sample_data

pytestmark = pytest.mark.integration

PDF = make_pdf(2, padding=200_000)


@pytest.fixture
async def broker(kafka_bootstrap: str) -> AsyncIterator[KafkaBroker]:
    broker = build_broker(kafka_bootstrap, client_id=f"ubl-test-{uuid.uuid4().hex[:6]}")
    await broker.start()
    yield broker
    await broker.stop()


async def _read(
    kafka_bootstrap: str, topic: str, expected: int, timeout: float = 20.0
) -> list[Any]:
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
                await asyncio.sleep(1.0)  # anything extra (a duplicate) would show up now
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


async def test_document_ready_on_kafka_once_for_the_same_input_twice(
    mongo_db: Any, broker: KafkaBroker, topics: Topics, kafka_bootstrap: str
) -> None:
    deps = await wire(mongo_db, broker, topics)
    first = await submit_document(_cmd(), deps)
    second = await submit_document(_cmd(), deps)
    assert first.document_id == second.document_id
    assert await mongo_db["documents"].count_documents({}) == 1

    records = await _read(kafka_bootstrap, topics.of(DocumentReady), expected=1)
    assert len(records) == 1
    record = records[0]
    assert record.key == b"client-42"
    event = DocumentReady.model_validate(json.loads(record.value))
    assert event.payload.document_id == first.document_id
    assert event.payload.pdf is not None
    assert event.payload.ubl is not None
    assert event.payload.pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert len(record.value) < 5_000  # references and hashes, never the bytes
    assert await deps.blobs.get(event.payload.pdf.blob_id) == PDF
    ubl = await deps.blobs.get(event.payload.ubl.blob_id)
    assert hashlib.sha256(ubl).hexdigest() == event.payload.ubl.sha256
    raw = await mongo_db["documents"].find_one({"_id": first.document_id})
    assert raw[PENDING] is False
    assert raw["outbox"] == []


async def test_a_broker_outage_keeps_the_event_until_the_relay_runs(
    mongo_db: Any, topics: Topics, kafka_bootstrap: str
) -> None:
    down = build_broker("127.0.0.1:1", client_id="down")
    deps = await wire(mongo_db, down, topics)  # never started: publishing fails
    document = await submit_document(_cmd(), deps)
    raw = await mongo_db["documents"].find_one({"_id": document.document_id})
    assert raw[PENDING] is True
    assert len(raw["outbox"]) == 1

    up = build_broker(kafka_bootstrap, client_id="up")
    await up.start()
    try:
        relayed = await wire(mongo_db, up, topics)
        assert await relayed.relay.flush() == 1
        assert await relayed.relay.flush() == 0
    finally:
        await up.stop()
    records = await _read(kafka_bootstrap, topics.of(DocumentReady), expected=1)
    assert [json.loads(r.value)["payload"]["document_id"] for r in records] == [
        document.document_id
    ]
