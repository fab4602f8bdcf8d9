"""The ImportValidated workload of bench_clients.py: chunks of checked rows published to the
clients worker, timed until every part of ImportCommitted is on Kafka, then until every
ClientCreated is relayed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date
from typing import Any

from portal_client_rules import OfficeRules, check_client
from portal_clients.testing.samples import client_form
from portal_contracts.broker import publish_event
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportCommitted,
    ImportRow,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.topics import Topics
from portal_contracts.values import TransferMethod

IMPORT_OFFICE = "bench-import"


def import_chunks(import_id: str, count: int) -> list[ImportValidated]:
    rules = OfficeRules(
        enabled_transfer_methods=frozenset({TransferMethod.MANUAL}),
        group_ids=None,
        today=date.today(),
    )
    rows = [
        ImportRow(
            row_number=n + 2, invite=False, client=check_client(client_form(50_000 + n), rules)
        )
        for n in range(count)
    ]
    per_row = len(rows[0].model_dump_json()) + 2
    per_chunk = max(1, (MAX_CHUNK_BYTES - 2048) // per_row)
    parts = [rows[i : i + per_chunk] for i in range(0, len(rows), per_chunk)]
    return [
        ImportValidated.new(
            office_id=IMPORT_OFFICE,
            payload=ImportValidatedPayload(
                import_id=import_id,
                version=1,
                chunk_index=index,
                chunk_count=len(parts),
                row_count=count,
                rows=part,
            ),
        )
        for index, part in enumerate(parts)
    ]


async def answer_parts(kafka: str, topic: str, limit_s: float) -> list[dict[str, Any]]:
    """Every part of the first answer on ``topic`` (an answer comes in parts of 5,000 rows)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    parts: list[dict[str, Any]] = []
    try:
        deadline = time.perf_counter() + limit_s
        while time.perf_counter() < deadline:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                parts.extend(dict(json.loads(m.value)) for m in messages)
            if parts and len(parts) >= parts[0]["payload"].get("chunk_count", 1):
                return parts
        raise TimeoutError(f"not every part on {topic} after {limit_s} s")
    finally:
        await consumer.stop()


async def create_through_import(
    service: Any, kafka: str, topics: Topics, count: int
) -> dict[str, Any]:
    chunks = await asyncio.to_thread(import_chunks, f"bench-{uuid.uuid4().hex[:8]}", count)
    answer = asyncio.create_task(answer_parts(kafka, topics.of(ImportCommitted), 1800))
    await asyncio.sleep(2)  # let the answer's reader join its group first
    broker = service.broker
    start = time.perf_counter()
    for chunk in chunks:
        await publish_event(broker, topics, chunk)
    parts = [ImportCommitted.model_validate(part) for part in await answer]
    until_committed = time.perf_counter() - start
    markers = service.db["outbox_markers"]
    for _ in range(18_000):  # at most an hour
        if await markers.count_documents({}) == 0:
            break
        await asyncio.sleep(0.2)
    until_relayed = time.perf_counter() - start
    assert sum(len(part.payload.client_ids) for part in parts) == count
    return {
        "rows": count,
        "chunks": len(chunks),
        "seconds_to_import_committed": round(until_committed, 1),
        "clients_per_s": round(count / until_committed, 1),
        "seconds_until_every_client_created_relayed": round(until_relayed, 1),
    }
