"""What an agent connection may fetch, and the keys agents authenticate with, in MongoDB.

- The feed is a query on the ledger itself (``deliveries``): the connection's deliveries in state
  ``available``, oldest first, paged by ``(due_at, _id)`` (``due_at`` = available since). The
  partial index ``agent_feed`` — ``{office_id, destination_key, due_at, _id}`` over the available
  deliveries only — keeps it an equality prefix and a keyset range, small however large the
  ledger grows. Leasing an item is the ledger's own compare-and-set on its version (two agents
  polling at once: one wins each item), and its lease coming back is the scheduler's claim of an
  expired lease, as for every channel.
- ``agent_keys``: ``_id`` = the sha256 of the token (a lookup is one point read; the token itself
  is never stored), indexed by ``{office_id, connection}`` for the admin's list. Deleting the
  connection deletes its keys in the same transaction (adapters/connections.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING

from portal_delivery.adapters.ledger import from_document
from portal_delivery.domain.agents import AgentKey, token_digest
from portal_delivery.domain.delivery import Delivery, State
from portal_servicekit.mongo import Document
from portal_servicekit.runtime import Runtime


class MongoPullQueue:
    def __init__(self, runtime: Runtime) -> None:
        self.collection = runtime.db["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [
                ("office_id", ASCENDING),
                ("destination_key", ASCENDING),
                ("due_at", ASCENDING),
                ("_id", ASCENDING),
            ],
            name="agent_feed",
            partialFilterExpression={"state": State.AVAILABLE.value},
        )

    async def available(
        self, office_id: str, connection: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[Delivery]:
        match: Document = {
            "office_id": office_id,
            "destination_key": connection.casefold(),
            "state": State.AVAILABLE.value,
        }
        if after is not None:
            at, last = after
            match["$or"] = [{"due_at": {"$gt": at}}, {"due_at": at, "_id": {"$gt": last}}]
        cursor = self.collection.find(match).sort([("due_at", 1), ("_id", 1)]).limit(limit)
        return [from_document(doc) async for doc in cursor]

    async def of_ids(self, office_id: str, connection: str, ids: Sequence[str]) -> list[Delivery]:
        cursor = self.collection.find(
            {
                "_id": {"$in": list(ids)},
                "office_id": office_id,
                "destination_key": connection.casefold(),
                "channel": "agent",
            }
        )
        return [from_document(doc) async for doc in cursor]


class MongoAgentKeys:
    def __init__(self, runtime: Runtime) -> None:
        self.collection = runtime.db["agent_keys"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("connection", 1)])

    async def issue(self, key: AgentKey, token: str) -> None:
        await self.collection.insert_one(
            {
                "_id": token_digest(token),
                "key_id": key.key_id,
                "office_id": key.office_id,
                "connection": key.connection_key,
                "name": key.connection,
                "created_at": key.created_at,
                "last_seen_at": None,
            }
        )

    async def verify(self, token: str) -> AgentKey | None:
        doc = await self.collection.find_one({"_id": token_digest(token)})
        return _key(doc) if doc else None

    async def of_connection(self, office_id: str, connection: str) -> list[AgentKey]:
        cursor = self.collection.find(
            {"office_id": office_id, "connection": connection.casefold()}
        ).sort("created_at", 1)
        return [_key(doc) async for doc in cursor]

    async def revoke(self, office_id: str, connection: str, key_id: str) -> bool:
        result = await self.collection.delete_one(
            {"office_id": office_id, "connection": connection.casefold(), "key_id": key_id}
        )
        return result.deleted_count == 1

    async def seen(self, key: AgentKey, at: datetime) -> None:
        await self.collection.update_one(
            {"office_id": key.office_id, "connection": key.connection_key, "key_id": key.key_id},
            {"$set": {"last_seen_at": at}},
        )


def _key(doc: Document) -> AgentKey:
    return AgentKey(
        doc["key_id"], doc["office_id"], doc["name"], doc["created_at"], doc.get("last_seen_at")
    )
