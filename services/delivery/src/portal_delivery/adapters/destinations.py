"""Per-destination circuit breaker in MongoDB (``destinations``, ``_id`` = the destination key).

Consecutive failures are counted with ``$inc`` (atomic across workers) only while the breaker is
closed: the count's filter asks for no pause in force, so a failure arriving while paused (an
attempt that was in flight) matches nothing and its upsert collides (E11000) — ignored. At the
fifth the destination is paused, conditionally on no pause in force, so racing workers open it
once; each reopening doubles the pause, 5 minutes up to an hour (BreakerPolicy). A paused
destination's deliveries are rescheduled without connecting, so a dead server costs nothing and
holds up no other destination; one success closes it and forgets the doublings.
"""

from __future__ import annotations

import time
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from portal_delivery.domain.retry import BreakerPolicy
from portal_servicekit.mongo import Document, is_duplicate_key


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
        closed = {"$or": [{"open_until": {"$exists": False}}, {"open_until": {"$lte": now}}]}
        self._memo.pop(destination, None)
        try:
            doc = await self.collection.find_one_and_update(
                {"_id": destination, **closed},
                {"$inc": {"failures": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return  # paused already: this attempt was in flight when it opened
            raise
        if doc is None or not self.policy.opens(doc["failures"]):
            return
        opened = int(doc.get("opened", 0))
        await self.collection.update_one(
            {"_id": destination, **closed},
            {"$set": {"open_until": now + self.policy.pause(opened)}, "$inc": {"opened": 1}},
        )

    async def throttled(self, destination: str, until: datetime) -> None:
        """Paused until ``until`` unless a longer pause is in force; ``failures`` and ``opened``
        are left as they are (the upsert collides when a later pause exists: ignored)."""
        self._memo.pop(destination, None)
        shorter = {"$or": [{"open_until": {"$exists": False}}, {"open_until": {"$lt": until}}]}
        try:
            await self.collection.update_one(
                {"_id": destination, **shorter}, {"$set": {"open_until": until}}, upsert=True
            )
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def succeeded(self, destination: str) -> None:
        self._memo.pop(destination, None)
        await self.collection.update_one(
            {"_id": destination, "$or": [{"failures": {"$gt": 0}}, {"opened": {"$gt": 0}}]},
            {"$set": {"failures": 0, "opened": 0}, "$unset": {"open_until": ""}},
        )
