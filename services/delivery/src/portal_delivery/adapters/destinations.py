"""Per-destination circuit breaker in MongoDB (``destinations``, ``_id`` = the destination key).

Consecutive failures are counted with ``$inc`` (atomic across workers); from the fifth on the
destination is paused for 5 minutes, doubling up to an hour (BreakerPolicy). A paused
destination's deliveries are rescheduled without connecting, so a dead server costs nothing and
holds up no other destination; one success closes it.
"""

from __future__ import annotations

import time
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from portal_delivery.domain.retry import BreakerPolicy
from portal_servicekit.mongo import Document


class MongoDestinations:
    """``memo_s``: how long a worker trusts what it read of a destination (every delivery to it
    asks; a second of staleness only lets one more attempt through while a breaker opens)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        policy: BreakerPolicy | None = None,
        *,
        memo_s: float = 1.0,
    ) -> None:
        self.collection = db["destinations"]
        self.policy = policy or BreakerPolicy()
        self.memo_s = memo_s
        self._memo: dict[str, tuple[float, datetime | None]] = {}

    async def paused_until(self, destination: str, now: datetime) -> datetime | None:
        memo = self._memo.get(destination)
        if memo is None or time.monotonic() - memo[0] > self.memo_s:
            doc = await self.collection.find_one({"_id": destination, "open_until": {"$gt": now}})
            memo = (time.monotonic(), None if doc is None else doc["open_until"])
            self._memo[destination] = memo
        until = memo[1]
        return until if until is not None and until > now else None

    async def failed(self, destination: str, now: datetime) -> None:
        doc = await self.collection.find_one_and_update(
            {"_id": destination},
            {"$inc": {"failures": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        self._memo.pop(destination, None)
        pause = self.policy.pause(doc["failures"] if doc else 1)
        if pause is not None:
            await self.collection.update_one(
                {"_id": destination}, {"$set": {"open_until": now + pause}}
            )

    async def succeeded(self, destination: str) -> None:
        self._memo.pop(destination, None)
        await self.collection.update_one(
            {"_id": destination, "failures": {"$gt": 0}},
            {"$set": {"failures": 0}, "$unset": {"open_until": ""}},
        )
