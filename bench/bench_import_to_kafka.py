"""10,000 confirmed import rows → 10,000 ClientCreated on Kafka (goal: under 20 s on this machine).

`uv run python bench/bench_import_to_kafka.py [--rows 10000]` — needs `make infra-up` (or
KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI). It runs the real clients and importer processes, uploads
and confirms an import, and times confirm → the last ClientCreated read back from the broker.
Baseline in the same run: producing the same number of ClientCreated-sized messages straight to
the same broker with the same producer settings (acks=all, idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal_contracts.clients import ClientCreated
from portal_contracts.topics import Topics
from portal_importer.samples import client_row
from portal_infra import local
from tests.e2e.conftest import JWT_KEY, Stack, bearer
from tests.e2e.test_import_creates_clients import OFFICE, XLSX, fill


async def count_until(bootstrap: str, topic: str, expected: int, timeout_s: float) -> float:
    """Seconds until ``expected`` messages were read from ``topic`` (from its start)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    seen, started = 0, time.perf_counter()
    try:
        while seen < expected and time.perf_counter() - started < timeout_s:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()
    if seen < expected:
        raise SystemExit(f"only {seen}/{expected} messages after {timeout_s}s")
    return time.perf_counter() - started


async def bare_produce(bootstrap: str, topic: str, payload: bytes, count: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, payload, key=str(i).encode()) for i in range(count)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def main(rows: int) -> None:
    urls = local.running()
    bootstrap, mongodb = urls["KAFKA_BOOTSTRAP_SERVERS"], urls["MONGODB_URI"]
    run = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"bench.{run}.")
    logs = Path(tempfile.mkdtemp(prefix="bench-import-logs-"))
    print(f"# service logs: {logs}")
    if True:
        stack = Stack(
            env={
                **__import__("os").environ,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "MONGODB_URI": mongodb,
                "PORTAL_JWT_KEY": JWT_KEY,
                "PORTAL_TOPIC_PREFIX": topics.prefix,
                "CLIENTS_DATABASE": f"bench_{run}_clients",
                "CLIENTS_VIES_ENABLED": "false",
                "CLIENTS_CONSUMER_GROUP": f"bench-{run}-clients",
                "IMPORTER_DATABASE": f"bench_{run}_importer",
            },
            topics=topics,
            logs=logs,
        )
        try:
            stack.start_api("clients")
            stack.start_worker("clients")
            stack.env["IMPORTER_CLIENTS_URL"] = stack.url("clients")
            stack.start_api("importer")
            stack.start_worker("importer")
            await stack.wait_healthy("clients")
            await stack.wait_healthy("importer")
            async with httpx.AsyncClient(timeout=120) as http:
                template = await http.get(
                    stack.url("importer") + "/v1/imports/template", headers=bearer(OFFICE)
                )
                workbook = fill(template.content, [client_row(n) for n in range(1, rows + 1)])
                uploaded = await http.post(
                    stack.url("importer") + "/v1/imports",
                    headers=bearer(OFFICE),
                    files={"file": ("clients.xlsx", workbook, XLSX)},
                )
                assert uploaded.json()["report"]["valid"], uploaded.json()["report"]["errors"][:3]
                import_url = stack.url("importer") + f"/v1/imports/{uploaded.json()['id']}"
                started = time.perf_counter()
                await http.post(import_url + "/confirm", headers=bearer(OFFICE))
                await count_until(bootstrap, topics.of(ClientCreated), rows, timeout_s=300)
                pipeline = time.perf_counter() - started
            sample = await _one_event(bootstrap, topics.of(ClientCreated))
        finally:
            stack.stop_all()
    bare = await bare_produce(bootstrap, f"bench.{run}.bare", sample, rows)
    print(f"{'what':<52} {'seconds':>8} {'msgs/s':>9}")
    print(
        f"{f'confirm → {rows:,} ClientCreated on Kafka (goal < 20 s)':<52} {pipeline:>8.1f} {rows / pipeline:>9,.0f}"
    )
    print(
        f"{f'baseline: bare produce of {rows:,} same-size messages':<52} {bare:>8.1f} {rows / bare:>9,.0f}"
    )


async def _one_event(bootstrap: str, topic: str) -> bytes:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        json.loads(record.value)
        return bytes(record.value)
    finally:
        await consumer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().rows))
