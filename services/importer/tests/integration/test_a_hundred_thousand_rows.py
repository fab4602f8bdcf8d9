"""The stated maximum, end to end on the real server and broker: a 100,000-row import is
uploaded, reported, confirmed, and every row reaches Kafka in ImportValidated chunks. The
clients service is this suite's fake (tests/fakes.py), which refuses lists over 20,000 values
as the real one does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.imports import MAX_CHUNK_BYTES, ImportValidated
from portal_contracts.topics import Topics
from portal_importer.bootstrap import Service
from portal_importer.domain.columns import BY_KEY
from portal_importer.domain.sheet import MAX_ROWS
from portal_importer.samples import client_row, plain_workbook
from services.importer.tests.fakes import MAX_VALUES, FakeClientsService

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def maximum_workbook() -> bytes:
    keys = list(client_row(1))
    return plain_workbook(
        [BY_KEY[k].header("fr") for k in keys],
        ([row[k] for k in keys] for row in map(client_row, range(1, MAX_ROWS + 1))),
    )


async def test_an_import_of_the_maximum_size_goes_out_whole(
    api: httpx.AsyncClient,
    auth: Auth,
    service: Service,
    clients_service: FakeClientsService,
    maximum_workbook: bytes,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    files = {"file": ("clients.xlsx", maximum_workbook, XLSX)}
    created = await api.post("/v1/imports", files=files, headers=auth())
    assert created.status_code == 201, created.text[:500]
    body = created.json()
    assert body["report"]["valid"], body["report"]["errors"][:3]
    assert body["report"]["rows"] == MAX_ROWS
    calls = clients_service.availability_calls
    assert len(calls) == 10  # 200,000 values in pages the clients service accepts
    assert all(len(c["emails"]) + len(c["vat_numbers"]) <= MAX_VALUES for c in calls)

    report = await api.get(f"/v1/imports/{body['id']}", headers=auth())
    assert report.json()["report"]["rows"] == MAX_ROWS
    confirmed = await api.post(f"/v1/imports/{body['id']}/confirm", headers=auth())
    assert confirmed.status_code == 202, confirmed.text[:500]

    consumer = AIOKafkaConsumer(
        topics.of(ImportValidated),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 2**20,
    )
    await service.runtime.broker.start()
    await consumer.start()
    rows: list[int] = []
    chunks: set[int] = set()
    try:
        await service.runtime.relay.drain(timeout_s=180)
        async with asyncio.timeout(120):
            while len(rows) < MAX_ROWS:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        assert len(record.value) <= MAX_CHUNK_BYTES
                        event = ImportValidated.model_validate_json(record.value)
                        chunks.add(event.payload.chunk_index)
                        rows += [r.row_number for r in event.payload.rows]
    finally:
        await consumer.stop()
        await service.runtime.broker.stop()
    assert rows == list(range(2, MAX_ROWS + 2))
    assert len(chunks) == event.payload.chunk_count
