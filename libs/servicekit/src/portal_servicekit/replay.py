"""Reading a topic from its beginning to its end as it was at the start: how a read model is
rebuilt from a compacted topic (ClientState), beside the live consumers
(:func:`rebuild_read_model`: delivery's, ubl's and invitations' ``entrypoints/rebuild.py``).

A fresh consumer with no group (``group_id=None``): nothing is committed, no consumer group is
joined or rebalanced, so the service's live consumers go on undisturbed and a second run starts
from the beginning again. Partitions are assigned by hand, their end offsets taken once at the
start, and the read stops when every partition's position reached its end: records written
meanwhile reach the read model through the live consumers (the handler must keep only newer
versions, as they do). The end is the partition's next offset, which a compacted topic may not
hold as a record (compaction leaves gaps): the consumer's position, not the last offset seen,
says when a partition is done.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

logger = logging.getLogger(__name__)

Records = Sequence[ConsumerRecord[Any, Any]]
T = TypeVar("T")


@dataclass
class RebuildReport:
    """What a rebuild did, as the command prints it."""

    read: int = 0  # records read from the topic
    stored: int = 0  # kept: missing from the read model, or newer than its copy
    kept: int = 0  # not kept: the same or a newer version was there (or later in the batch)
    unreadable: int = 0  # records that could not be read (logged, skipped)


async def rebuild_read_model(
    bootstrap_servers: str,
    topic: str,
    read: Callable[[bytes], T],
    remember: Callable[[list[T]], Awaitable[int]],
    *,
    client_id: str,
) -> RebuildReport:
    """Every record of ``topic`` (to its end at the start) read with ``read`` and handed, a
    batch at a time, to ``remember``, which keeps only what is newer than its copy and says how
    many it kept. A record ``read`` refuses is logged and counted, not fatal; a tombstone (no
    value) is skipped."""
    report = RebuildReport()

    async def handle(records: Records) -> None:
        items: list[T] = []
        for record in records:
            if record.value is None:
                continue
            try:
                items.append(read(record.value))
            except (ValidationError, ValueError) as exc:
                report.unreadable += 1
                logger.error("unreadable %s@%s: %r", record.partition, record.offset, exc)
        stored = await remember(items) if items else 0
        report.stored += stored
        report.kept += len(items) - stored

    report.read = await read_to_end(bootstrap_servers, topic, handle, client_id=client_id)
    return report


async def read_to_end(
    bootstrap_servers: str,
    topic: str,
    handle: Callable[[Records], Awaitable[object]],
    *,
    client_id: str,
    max_records: int = 500,
) -> int:
    """Hand every record of ``topic`` up to its end offsets at the start to ``handle``, in
    batches (each in its partition's order); returns how many records were read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        if not partitions:
            logger.warning("topic %s does not exist: nothing to read", topic)
            return 0
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
        read = 0
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=max_records)
            for tp, records in batches.items():
                mine = [r for r in records if r.offset < ends[tp]]
                if mine:
                    await handle(mine)
                    read += len(mine)
            remaining = [tp for tp in remaining if await consumer.position(tp) < ends[tp]]
        return read
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    # The metadata fetched now (aiokafka 0.14's topics() fetches it but keeps it to itself, and
    # partitions_for_topic() reads a cache an unassigned consumer has not filled).
    cluster = await consumer._client.fetch_all_metadata()
    numbers = cluster.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, n) for n in sorted(numbers)]
