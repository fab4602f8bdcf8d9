"""Transactional outbox for a store without transactions (FerretDB): an aggregate document carries
its not-yet-published events in an ``outbox`` array, written in the SAME single-document write as
the state change; :class:`OutboxRelay` publishes them in order and then removes them.

A crash between the write and the publish loses nothing (the events stay in the document and the
relay publishes them when it restarts); a crash between the publish and the removal publishes an
event twice, which consumers absorb because they are idempotent on ``event_id``.

Two limits of FerretDB 1.24 (SQLite) shape how services use this (see services/clients/README.md):
an update is an unlocked read-modify-write in FerretDB, so the relay's ``$pull`` may race a writer
updating the same document — use it as is only for documents that are not updated after their
events are written (ubl's documents), or relay under the writer's lock (invitations); and only
``_id`` lookups are pushed down to SQLite, so ``{outbox_pending: true}`` scans the collection —
fine for small collections, while the clients service drives its relay by marker documents.
"""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from portal_contracts.envelope import Envelope
from portal_contracts.topics import Topics
from portal_servicekit.polling import PollingLoop

logger = logging.getLogger(__name__)

Document = dict[str, Any]
PENDING = "outbox_pending"


def outbox_entry(event: Envelope[Any]) -> Document:
    """What an aggregate stores for one pending event."""
    return {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "key": event.aggregate_id(),
        "correlation_id": str(event.correlation_id),
        "body": event.model_dump(mode="json"),
    }


def with_outbox(document: Document, events: list[Envelope[Any]]) -> Document:
    """The document to write, with ``events`` appended to its outbox."""
    entries = list(document.get("outbox", [])) + [outbox_entry(e) for e in events]
    return {**document, "outbox": entries, PENDING: bool(entries)}


async def ensure_outbox_index(collection: AsyncCollection[Document]) -> None:
    await collection.create_index(PENDING)


class OutboxRelay:
    """Polls collections for pending events and publishes them keyed by aggregate id."""

    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        collections: list[AsyncCollection[Document]],
        *,
        poll_interval_s: float = 0.2,
        batch: int = 200,
    ) -> None:
        self.broker = broker
        self.topics = topics
        self.collections = collections
        self.poll_interval_s = poll_interval_s
        self.batch = batch
        self._loop = PollingLoop(
            self.relay_once, name="outbox-relay", poll_interval_s=poll_interval_s
        )

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a write with events)."""
        self._loop.wake()

    async def relay_once(self) -> int:
        published = 0
        for collection in self.collections:
            cursor = collection.find({PENDING: True}, {"outbox": 1}).limit(self.batch)
            async for document in cursor:
                published += await self._relay_document(collection, document)
        return published

    async def _relay_document(
        self, collection: AsyncCollection[Document], document: Document
    ) -> int:
        entries: list[Document] = document.get("outbox", [])
        for entry in entries:
            await self.broker.publish(
                entry["body"],
                topic=self.topics.of(entry["event_type"]),
                key=entry["key"].encode(),
                headers={"event_id": entry["event_id"], "event_type": entry["event_type"]},
                correlation_id=entry["correlation_id"],
            )
            # Exact-subdocument $pull: FerretDB 1.24 ignores $pull with a query condition.
            await collection.update_one({"_id": document["_id"]}, {"$pull": {"outbox": entry}})
        await collection.update_one(
            {"_id": document["_id"], "outbox.0": {"$exists": False}}, {"$set": {PENDING: False}}
        )
        return len(entries)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
