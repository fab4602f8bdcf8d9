"""The transactional outbox and the one relay every service runs.

A state change and the events that announce it are committed together: the service writes its
documents and ``Outbox.add(events, session=…)`` in ONE MongoDB transaction. The relay publishes
what is committed, in commit order, and deletes it once Kafka acknowledged it.

- A crash before the commit: neither the state nor the events exist.
- A crash after the commit, before publishing: the events wait in ``outbox`` and go out when a
  relay runs again.
- A crash after publishing, before the delete: the events go out twice, with the same
  ``event_id``; every consumer is idempotent on it.

Events are stored encoded (the exact JSON bytes that go to Kafka), several per outbox record when
one write announces many (an import's ClientCreated), so a 10,000-client import is a few dozen
outbox inserts, not 10,000.

One relay per service is active at a time (a :class:`~portal_servicekit.leases.Lease`), so a
service can run several replicas and its events still leave in order. It polls, and a change
stream on ``outbox`` wakes it as soon as another process (the API) commits; where change streams
are not available it keeps polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bson import Binary, ObjectId
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.broker import publish_encoded_event
from portal_contracts.envelope import Envelope
from portal_contracts.topics import Topics
from portal_servicekit.leases import Lease
from portal_servicekit.mongo import Document, Session
from portal_servicekit.polling import PollingLoop

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "leases"
# Well under MongoDB's 16 MB document limit and Kafka's 1 MB message limit per event.
EVENTS_PER_RECORD = 500
RECORD_BYTES = 8 * 1024 * 1024


def encoded(event: Envelope[Any]) -> Document:
    """One event as the outbox keeps it: what the relay needs to publish it as is."""
    return {
        "type": event.event_type,
        "route": Topics.route_of(event),
        "id": str(event.event_id),
        "key": event.aggregate_id(),
        "correlation_id": str(event.correlation_id),
        "body": Binary(event.model_dump_json().encode()),
    }


def records_of(events: Sequence[Envelope[Any]]) -> list[Document]:
    """The outbox records for ``events``, in order, each within the size bounds."""
    return records_of_entries([encoded(event) for event in events])


def records_of_entries(entries: Sequence[Document]) -> list[Document]:
    """The same for events already encoded (see :func:`encoded` for an entry's shape)."""
    records: list[Document] = []
    batch: list[Document] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) >= EVENTS_PER_RECORD or size + len(entry["body"]) > RECORD_BYTES):
            records.append(_record(batch))
            batch, size = [], 0
        batch.append(entry)
        size += len(entry["body"])
    if batch:
        records.append(_record(batch))
    return records


def _record(events: list[Document]) -> Document:
    return {"_id": ObjectId(), "events": events, "at": datetime.now(UTC)}


class Outbox:
    """The service's committed, not yet published events (collection ``outbox``)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[OUTBOX]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("at", 1), ("_id", 1)])

    async def add(self, events: Sequence[Envelope[Any]], *, session: Session | None) -> None:
        """Store ``events`` in the caller's transaction (``session``), after its other writes."""
        await self.add_entries([encoded(event) for event in events], session=session)

    async def add_entries(self, entries: Sequence[Document], *, session: Session | None) -> None:
        """The same for events already encoded by their writer."""
        records = records_of_entries(entries)
        if len(records) == 1:
            await self.collection.insert_one(records[0], session=session)
        elif records:
            await self.collection.insert_many(records, session=session)

    async def pending(self) -> int:
        return await self.collection.count_documents({})


class OutboxRelay:
    """Publishes the outbox in commit order, keyed by aggregate id, then deletes what went out."""

    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        db: AsyncDatabase[Document],
        *,
        name: str,
        poll_interval_s: float = 0.5,
        records_per_pass: int = 20,
    ) -> None:
        self.broker = broker
        self.topics = topics
        self.outbox = Outbox(db)
        self.lease = Lease(db[LEASES], f"outbox-relay:{name}")
        self.records_per_pass = records_per_pass
        self._loop = PollingLoop(
            self.relay_once, name=f"{name}-outbox-relay", poll_interval_s=poll_interval_s
        )
        self._watch: asyncio.Task[None] | None = None
        self._indexed = False

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit with events)."""
        self._loop.wake()

    async def relay_once(self) -> int:
        if not await self.lease.hold():
            return 0  # another replica relays; this one stands by
        if not self._indexed:
            await self.outbox.ensure_indexes()
            self._indexed = True
        # Commit order: by the time each record was made (milliseconds), then its ObjectId (whose
        # time is whole seconds and whose counter is per process: alone it could put a record of
        # one process before an earlier one of another within the same second).
        cursor = (
            self.outbox.collection.find({})
            .sort([("at", 1), ("_id", 1)])
            .limit(self.records_per_pass)
        )
        records = await cursor.to_list()
        if not records:
            return 0
        acks = [await self._publish(event) for record in records for event in record["events"]]
        await asyncio.gather(*acks)
        await self.outbox.collection.delete_many({"_id": {"$in": [r["_id"] for r in records]}})
        return len(acks)

    async def _publish(self, event: Document) -> Any:
        # Queued without waiting (the idempotent producer keeps one key's order); the caller
        # awaits every acknowledgement before deleting anything.
        return await publish_encoded_event(
            self.broker,
            self.topics.resolve(str(event.get("route") or event["type"])),
            bytes(event["body"]),
            key=event["key"].encode(),
            event_id=event["id"],
            event_type=event["type"],
            correlation_id=event["correlation_id"],
            no_confirm=True,
        )

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Publish until the outbox is empty (tests, and a clean shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while await self.relay_once() or await self.outbox.pending():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the outbox did not drain")
            await asyncio.sleep(0.05)

    async def _watch_commits(self) -> None:
        """Wake on every commit to ``outbox`` made by any process (a change stream)."""
        try:
            async with await self.outbox.collection.watch(
                [{"$match": {"operationType": "insert"}}]
            ) as stream:
                async for _ in stream:
                    self.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no change streams here: polling alone still relays
            logger.info("outbox change stream unavailable (%r); relaying by polling", exc)

    def start(self) -> None:
        self._loop.start()
        self._watch = asyncio.create_task(self._watch_commits(), name="outbox-watch")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._loop.stop()
        with contextlib.suppress(Exception):
            await self.lease.release()
