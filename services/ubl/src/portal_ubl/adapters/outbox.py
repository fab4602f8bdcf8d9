"""Publishes the DocumentReady events waiting in documents' outboxes, then clears them.

Each stored event is re-validated as a :class:`DocumentReady` and published with
:func:`portal_contracts.broker.publish_event` (keyed by client id, event id in headers). A crash
between publish and clear publishes twice; consumers are idempotent on ``event_id``.
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from portal_contracts.broker import publish_event
from portal_contracts.documents import DocumentReady
from portal_contracts.topics import Topics
from portal_servicekit.outbox import PENDING

Doc = dict[str, Any]


class DocumentOutbox:
    def __init__(self, broker: KafkaBroker, topics: Topics, collection: AsyncCollection[Doc]):
        self.broker = broker
        self.topics = topics
        self.collection = collection

    async def flush(self) -> int:
        published = 0
        async for record in self.collection.find({PENDING: True}, {"outbox": 1}).limit(200):
            for entry in record.get("outbox", []):
                await publish_event(
                    self.broker, self.topics, DocumentReady.model_validate(entry["body"])
                )
                # Exact-subdocument $pull: FerretDB ignores $pull with a query condition.
                await self.collection.update_one(
                    {"_id": record["_id"]}, {"$pull": {"outbox": entry}}
                )
                published += 1
            await self.collection.update_one(
                {"_id": record["_id"], "outbox.0": {"$exists": False}}, {"$set": {PENDING: False}}
            )
        return published
