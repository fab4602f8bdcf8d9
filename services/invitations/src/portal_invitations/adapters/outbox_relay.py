"""The outbox relay: publishes what writers left in the ``outbox`` collection (see
event_outbox), in order per client, under the clients' locks.

Events go out as servicekit's relay sends them (same topics, keys, headers). Most events are
published by their writer at once; the relay publishes the others (the HTTP API's, or when
publishing at once failed) and deletes events whose write never happened. It reads only the
small outbox collection and, when it must confirm an event, the clients' documents by ``_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

from portal_contracts.topics import Topics
from portal_invitations.adapters.access_store import lock_key
from portal_invitations.adapters.event_outbox import EventOutbox
from portal_invitations.adapters.locks import RecordLocks
from portal_servicekit.polling import PollingLoop

Document = dict[str, Any]
logger = logging.getLogger(__name__)


def publisher(broker: KafkaBroker, topics: Topics) -> Callable[[list[Document]], Awaitable[None]]:
    """Publish stored outbox entries in order, as servicekit's relay does."""

    async def publish(entries: list[Document]) -> None:
        for entry in entries:
            await broker.publish(
                entry["body"],
                topic=topics.of(entry["event_type"]),
                key=entry["key"].encode(),
                headers={"event_id": entry["event_id"], "event_type": entry["event_type"]},
                correlation_id=entry["correlation_id"],
            )

    return publish


class OutboxRelay:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        outbox: EventOutbox,
        locks: RecordLocks,
        *,
        poll_interval_s: float = 0.2,
        idle_max_s: float = 2.0,
        batch: int = 500,
    ) -> None:
        self.publish = publisher(broker, topics)
        self.outbox = outbox
        self.locks = locks
        self.poll_interval_s = poll_interval_s
        self.idle_max_s = idle_max_s
        self.batch = batch
        # Each pass scans the outbox, and most events are published by their writer: an empty
        # pass waits longer each time (the other processes' events, e.g. the API's, are found
        # within ``idle_max_s``); a write of this process wakes it.
        self._loop = PollingLoop(
            self.relay_once,
            name="outbox-relay",
            poll_interval_s=poll_interval_s,
            idle_max_s=idle_max_s,
        )

    def wake(self) -> None:
        """Look now rather than at the next poll (called after a write with events)."""
        self._loop.wake()

    async def relay_once(self) -> int:
        """One pass; returns how many events were published."""
        clients = await self.outbox.clients_to_relay(datetime.now(UTC), self.batch)
        if not clients:
            return 0
        # Clients a writer holds right now are left for the next pass (it publishes them).
        async with self.locks.hold_many([lock_key(c) for c in clients]) as held:
            mine = {c for c in clients if lock_key(c) in held}
            pending = await self.outbox.pending(mine) if mine else []
            return await self.outbox.publish(pending, self.publish)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
