"""The outbox relay, led by ``outbox_hints`` instead of a scan of every client document.

Events are published exactly as servicekit's relay does (same topics, keys, headers, order);
what differs is how pending documents are found — see access_store for why — and each document
is relayed under its client's lock, since FerretDB updates are not atomic (see locks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from portal_contracts.topics import Topics
from portal_invitations.adapters.access_store import lock_key
from portal_invitations.adapters.locks import RecordLocks
from portal_servicekit.outbox import PENDING, OutboxRelay

Document = dict[str, Any]


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


class HintedOutboxRelay(OutboxRelay):
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        collection: AsyncCollection[Document],
        hints: AsyncCollection[Document],
        locks: RecordLocks,
        **kwargs: Any,
    ) -> None:
        super().__init__(broker, topics, [collection], **kwargs)
        self.collection = collection
        self.hints = hints
        self.locks = locks

    async def relay_once(self) -> int:
        published = 0
        async for hint in self.hints.find({}).limit(self.batch):
            # Under the client's lock: the $pull below must not race a handler's write.
            async with self.locks.hold(lock_key(hint["_id"])):
                document = await self.collection.find_one({"_id": hint["_id"]}, {"outbox": 1})
                if document is not None and document.get("outbox"):
                    published += await self._publish_all(document)
                await self.hints.delete_one({"_id": hint["_id"], "rev": hint["rev"]})
        return published

    async def _publish_all(self, document: Document) -> int:
        """Publish in order, then clear the outbox in ONE update: under the lock nothing can
        have been appended meanwhile, and on FerretDB each update costs a collection scan."""
        entries: list[Document] = document["outbox"]
        await publisher(self.broker, self.topics)(entries)
        await self.collection.update_one(
            {"_id": document["_id"]}, {"$set": {"outbox": [], PENDING: False}}
        )
        return len(entries)
