"""Consuming a Kafka batch without letting one bad record fail it, or an outage lose it.

The broker's dead-letter middleware handles single records; a batch consumer handles its own
(FastStream passes it the batch whole). :func:`consume_batch` reads each record on its own (an
unreadable one goes to ``<topic>.dlt`` at once: nobody can ever read it), hands the readable ones
to the batch handler, and when that fails for another reason than an outage, handles them one
by one, setting aside a record that fails ``max_attempts`` times. An outage (database or broker
unavailable) is raised: the whole batch comes back, uncommitted, and is never dead-lettered.

Subscribe with ``decoder=undecoded`` and ``batch=True``, and pass ``message.raw_message``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import StreamMessage
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from portal_contracts.broker import is_transient, publish_dead_letter

logger = logging.getLogger(__name__)
T = TypeVar("T")
OUTAGE_PAUSE_S = 1.0


async def undecoded(message: StreamMessage[Any]) -> None:
    """A decoder that decodes nothing: :func:`consume_batch` reads the records one by one."""
    return None


async def consume_batch(
    records: Sequence[ConsumerRecord[Any, Any]],
    read: Callable[[bytes], T],
    handle: Callable[[list[T]], Awaitable[object]],
    *,
    broker: KafkaBroker,
    handle_one: Callable[[T], Awaitable[object]] | None = None,
    max_attempts: int = 3,
) -> None:
    readable: list[tuple[ConsumerRecord[Any, Any], T]] = []
    for record in records:
        try:
            readable.append((record, read(record.value or b"")))
        except (ValidationError, ValueError) as exc:
            await publish_dead_letter(broker, record, exc, 1)
    try:
        await handle([item for _, item in readable])
    except Exception as exc:
        if is_transient(exc):
            logger.warning("infrastructure unavailable; the batch comes back: %r", exc)
            await asyncio.sleep(OUTAGE_PAUSE_S)
            raise
        logger.warning("a batch of %d failed, now one by one: %r", len(readable), exc)
        one = handle_one or (lambda item: handle([item]))
        for record, item in readable:
            await _one(record, item, one, broker, max_attempts)


async def _one(
    record: ConsumerRecord[Any, Any],
    item: T,
    handle_one: Callable[[T], Awaitable[object]],
    broker: KafkaBroker,
    max_attempts: int,
) -> None:
    for attempt in range(1, max_attempts + 1):
        try:
            await handle_one(item)
            return
        except Exception as exc:
            if is_transient(exc):
                await asyncio.sleep(OUTAGE_PAUSE_S)
                raise
            if attempt == max_attempts:
                await publish_dead_letter(broker, record, exc, attempt)
                return
            logger.warning("record %s failed (attempt %d): %r", record.offset, attempt, exc)
            await asyncio.sleep(0.2 * attempt)
