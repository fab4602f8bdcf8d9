"""The outbox relay, led by ``outbox_hints`` instead of a scan of every client document.

Publishing itself is servicekit's (same topics, keys, headers, exact-subdocument ``$pull``);
only how pending documents are found differs — see access_store for why — and each document
is relayed under its client's lock, since FerretDB updates are not atomic (see locks).
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from portal_contracts.topics import Topics
from portal_invitations.adapters.access_store import lock_key
from portal_invitations.adapters.locks import RecordLocks
from portal_servicekit.outbox import OutboxRelay

Document = dict[str, Any]


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
                    published += await self._relay_document(self.collection, document)
                await self.hints.delete_one({"_id": hint["_id"], "rev": hint["rev"]})
        return published
