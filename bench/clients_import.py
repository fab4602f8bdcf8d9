"""What the clients benchmarks share: the servers (the environment's, or throwaway ones started
here), the clients worker as its own process, ImportValidated chunks as the importer sends them,
and a reader that times records arriving on a topic."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from portal_client_rules import OfficeRules, check_client
from portal_clients.testing.samples import client_form
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportRow,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.values import TransferMethod
from portal_infra import kafka as kafka_nodes
from portal_infra import mongodb
from portal_infra.process import spawn, stop_process

JWT_KEY = "bench-clients-signing-key-0123456789abcdef"
PARTITIONS = 3  # the local broker's default (portal_infra/kafka.py)


@contextlib.contextmanager
def servers(home: Path) -> Iterator[tuple[str, str]]:
    """(MongoDB URI, Kafka bootstrap): MONGODB_URI / KAFKA_BOOTSTRAP_SERVERS when set, else a
    throwaway SecantusDB (durable, as `make up` runs it) and Kafka started here."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            node = mongodb.new_node(home / "mongodb", durable=True)
            started.append(mongodb.start_and_wait(node))
            uri = node.uri
        kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not kafka:
            broker = kafka_nodes.new_node(home / "kafka")
            started.append(kafka_nodes.start_and_wait(broker))
            kafka = broker.bootstrap
        print(f"# MongoDB-wire server {uri}, Kafka {kafka}", flush=True)
        yield uri, kafka
    finally:
        for process in started:
            stop_process(process)


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-clients-"))


def remove(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


def service_env(mongodb_uri: str, kafka: str, prefix: str, database: str) -> dict[str, str]:
    return {
        **os.environ,
        "MONGODB_URI": mongodb_uri,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": prefix,
        "CLIENTS_DATABASE": database,
        "CLIENTS_CONSUMER_GROUP": f"{prefix}clients",
        "CLIENTS_VIES_ENABLED": "false",
        "PORTAL_LOG_LEVEL": "INFO",
    }


def start_worker(env: dict[str, str], log: Path, profile: Path | None = None) -> Any:
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "portal_clients.entrypoints.worker"]
    return spawn(command, log, env=env)


def stop(process: Any) -> None:
    stop_process(process, timeout=60)


RULES = OfficeRules(
    enabled_transfer_methods=frozenset({TransferMethod.MANUAL}), group_ids=None, today=date.today()
)


def import_chunks(office: str, import_id: str, count: int, first: int) -> list[ImportValidated]:
    """Checked rows in chunks of at most 512 KB, as the importer publishes a confirmed import."""
    rows = [
        ImportRow(
            row_number=n + 2, invite=False, client=check_client(client_form(first + n), RULES)
        )
        for n in range(count)
    ]
    per_row = len(rows[0].model_dump_json()) + 2
    per_chunk = max(1, (MAX_CHUNK_BYTES - 2048) // per_row)
    parts = [rows[i : i + per_chunk] for i in range(0, len(rows), per_chunk)]
    return [
        ImportValidated.new(
            office_id=office,
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


async def create_topics(kafka: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(n, num_partitions=3, replication_factor=1) for n in names if n not in existing
        ]
        if wanted:
            await admin.create_topics(wanted)
    finally:
        await admin.close()


class TopicReader:
    """Counts the records arriving on a topic from now on (every partition, no group)."""

    def __init__(self, kafka: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_bytes=52428800,
        )
        self.topic = topic
        self.records: list[bytes] = []

    async def start(self) -> None:
        """Reads from the current end of the topic (made by create_topics: 3 partitions)."""
        await self.consumer.start()
        self.consumer.assign([TopicPartition(self.topic, p) for p in range(PARTITIONS)])
        await self.consumer.seek_to_end()

    async def until(
        self, count: int, timeout_s: float, *, since: float | None = None, progress: str = ""
    ) -> float:
        """Seconds from ``since`` (perf_counter; default now) until ``count`` records arrived,
        with a progress line every 5 s."""
        started = time.perf_counter() if since is None else since
        shown = time.perf_counter()
        while len(self.records) < count:
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError(
                    f"{len(self.records)}/{count} on {self.topic} after {timeout_s} s"
                )
            batch = await self.consumer.getmany(timeout_ms=100, max_records=10_000)
            self.records += [r.value for records in batch.values() for r in records]
            if progress and time.perf_counter() - shown > 5:
                shown = time.perf_counter()
                print(
                    f"  ... {progress}: {len(self.records):,}/{count:,} after {shown - started:.0f} s",
                    flush=True,
                )
        return time.perf_counter() - started

    def parts(self) -> list[dict[str, Any]]:
        return [json.loads(r) for r in self.records]

    async def stop(self) -> None:
        await self.consumer.stop()
