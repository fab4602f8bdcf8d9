"""The client routes read model in MongoDB (FerretDB)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.clients import Integration
from portal_delivery.domain.model import ClientRoute
from portal_servicekit.mongo import Document


class MongoClientRoutes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["client_routes"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("client_id", 1)], unique=True)

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        doc = await self.collection.find_one({"office_id": office_id, "client_id": client_id})
        if doc is None:
            return None
        return ClientRoute(
            doc["office_id"],
            doc["client_id"],
            doc["version"],
            Integration.model_validate(doc["integration"]),
        )

    async def save(self, route: ClientRoute) -> None:
        await self.collection.update_one(
            {"office_id": route.office_id, "client_id": route.client_id},
            {
                "$set": {
                    "version": route.version,
                    "integration": route.integration.model_dump(mode="json"),
                }
            },
            upsert=True,
        )
