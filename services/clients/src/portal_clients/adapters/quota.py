"""Allowances per key and time window: one counter document per (key, window), ``$inc``-ed
atomically (``find_one_and_update`` with upsert), removed by a TTL index once its window is over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from portal_servicekit.mongo import is_duplicate_key

Document = dict[str, Any]


class MongoQuota:
    def __init__(self, db: AsyncDatabase[Document], *, limit: int, window: timedelta) -> None:
        self.uses = db["quota_uses"]
        self.limit = limit
        self.window = window

    async def prepare(self) -> None:
        await self.uses.create_index("expires_at", expireAfterSeconds=0)

    async def take(self, key: str, amount: int, now: datetime) -> timedelta | None:
        seconds = int(self.window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        ends = datetime.fromtimestamp(start + seconds, tz=now.tzinfo)
        doc: Document | None = None
        for attempt in range(2):  # two first users of a window may both try the upsert
            try:
                doc = await self.uses.find_one_and_update(
                    {"_id": f"{key}:{start}"},
                    {"$inc": {"used": amount}, "$setOnInsert": {"expires_at": ends}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                break
            except Exception as exc:
                if attempt or not is_duplicate_key(exc):
                    raise
        used = doc["used"] if doc is not None else 0
        return None if used <= self.limit else ends - now
