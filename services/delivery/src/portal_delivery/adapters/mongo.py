"""The client routes read model in MongoDB: one document per client, ``_id`` = office:client.

Keeping the newest snapshot is one conditional upsert: it matches only a stored route of an
OLDER version (and then replaces it), or inserts when there is none; when a route of the same or
a newer version exists, the upsert's insert hits the ``_id`` index (E11000) and nothing changes.
So two snapshots racing (a replay beside a live event) cannot let the older one win, which a
read-then-write could.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.clients import Integration
from portal_delivery.domain.model import ClientRoute
from portal_servicekit.mongo import Document, is_duplicate_key


def _key(office_id: str, client_id: str) -> str:
    return f"{office_id}:{client_id}"


class MongoClientRoutes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["client_routes"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("client_id", 1)], unique=True)

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        doc = await self.collection.find_one({"_id": _key(office_id, client_id)})
        if doc is None:
            return None
        return ClientRoute(
            doc["office_id"],
            doc["client_id"],
            doc["version"],
            Integration.model_validate(doc["integration"]),
        )

    async def keep_newest(self, route: ClientRoute) -> bool:
        try:
            await self.collection.update_one(
                {"_id": _key(route.office_id, route.client_id), "version": {"$lt": route.version}},
                {
                    "$set": {
                        "office_id": route.office_id,
                        "client_id": route.client_id,
                        "version": route.version,
                        "integration": route.integration.model_dump(mode="json"),
                    }
                },
                upsert=True,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False  # the same or a newer version is stored
            raise
        return True
