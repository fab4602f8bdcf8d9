"""MongoDB adapters beside the client documents: office profiles, the per-office hourly quota and
the acceptance attempt counters. Counters are single documents changed by an atomic ``$inc``
(upserted per window) and removed by a TTL index once their window is over."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_invitations.domain.office import OfficeProfile
from portal_invitations.domain.sending import hour_window, sliding_estimate, window_start
from portal_invitations.ports import Reservation

Document = dict[str, Any]

OFFICES = "offices"
QUOTAS = "office_send_quotas"
ATTEMPTS = "accept_attempts"


async def create_ttl_index(collection: AsyncCollection[Document]) -> None:
    """Documents go once their ``expires_at`` has passed (MongoDB's TTL monitor, every 60 s)."""
    await collection.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)


class MongoOfficeProfiles:
    """``offices``: one document per office, the newest OfficeProfileChanged kept (its
    ``version``). An older or repeated event matches nothing: the filter asks for a lower
    version, and the upsert's E11000 on ``_id`` means a newer one is stored. ``defaults``
    (settings) name offices that never saved a profile: a development stack's seed."""

    def __init__(self, db: AsyncDatabase[Document], defaults: dict[str, str]) -> None:
        self.collection: AsyncCollection[Document] = db[OFFICES]
        self.defaults = dict(defaults)

    async def profile_of(self, office_id: str) -> OfficeProfile | None:
        doc = await self.collection.find_one({"_id": office_id})
        if doc is None or "version" not in doc:
            default = self.defaults.get(office_id)
            return OfficeProfile(default) if default else None
        return OfficeProfile(doc["name"], doc.get("sender_name"), tuple(doc.get("languages", ())))

    async def remember(self, office_id: str, version: int, profile: OfficeProfile) -> bool:
        fields = {
            "name": profile.name,
            "sender_name": profile.sender_name,
            "languages": list(profile.languages),
            "version": version,
        }
        try:
            saved = await self.collection.update_one(
                {"_id": office_id, "$or": [{"version": {"$lt": version}}, {"version": None}]},
                {"$set": fields},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # a version at least as new is kept
        return bool(saved.matched_count or saved.upserted_id is not None)


class MongoOfficeQuota:
    """At most ``per_hour`` invitations per office and clock hour (0: no limit): one counter
    document per office and hour, ``_id`` = office|hour."""

    def __init__(self, db: AsyncDatabase[Document], per_hour: int) -> None:
        self.collection: AsyncCollection[Document] = db[QUOTAS]
        self.per_hour = per_hour

    async def reserve(self, office_id: str, now: datetime, wanted: int = 1) -> Reservation:
        if self.per_hour <= 0:
            return Reservation(wanted)
        hour = hour_window(now)
        key = f"{office_id}|{hour.isoformat()}"
        reopens = hour + timedelta(hours=1)
        take = min(wanted, self.per_hour)
        # Each miss means another sender took slots meanwhile, so this ends within the quota.
        for _ in range(self.per_hour + 2):
            try:
                # Matches only while ``take`` slots are left; otherwise the upsert hits the
                # ``_id`` of the existing counter (E11000), so the count never exceeds the quota.
                await self.collection.update_one(
                    {"_id": key, "count": {"$lte": self.per_hour - take}},
                    {
                        "$inc": {"count": take},
                        "$setOnInsert": {"office_id": office_id, "expires_at": reopens},
                    },
                    upsert=True,
                )
                return Reservation(take, reopens if take < wanted else None)
            except DuplicateKeyError:
                counter = await self.collection.find_one({"_id": key})
                take = self.per_hour - (counter["count"] if counter else 0)
                if take <= 0:
                    return Reservation(0, reopens)
        return Reservation(0, now + timedelta(seconds=5))  # unreachable; again shortly


class MongoFailedAttempts:
    """Failures per key (a client address, a token hash) in a sliding window, shared by every
    API replica: one document per key and fixed window (``_id`` = kind|key|window start), the
    previous window weighing as much as it still overlaps the sliding one. A key may fail
    ``limit`` times; past that it waits for the window to move on."""

    def __init__(
        self, db: AsyncDatabase[Document], *, kind: str, limit: int, window: timedelta
    ) -> None:
        self.collection: AsyncCollection[Document] = db[ATTEMPTS]
        self.kind = kind
        self.limit = limit
        self.window = window

    async def record(self, key: str, now: datetime) -> timedelta | None:
        start = window_start(now, self.window)
        current = await self.collection.find_one_and_update(
            {"_id": self._id(key, start)},
            {"$inc": {"n": 1}, "$setOnInsert": {"expires_at": start + 2 * self.window}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        count = current["n"] if current else 1
        return await self._wait(key, now, start, count, past=self.limit)

    async def wait(self, key: str, now: datetime) -> timedelta | None:
        start = window_start(now, self.window)
        current = await self.collection.find_one({"_id": self._id(key, start)})
        count = current["n"] if current else 0
        return await self._wait(key, now, start, count, past=self.limit - 1)

    async def _wait(
        self, key: str, now: datetime, start: datetime, count: int, past: int
    ) -> timedelta | None:
        previous = await self.collection.find_one({"_id": self._id(key, start - self.window)})
        elapsed = (now - start) / self.window
        estimate = sliding_estimate(previous["n"] if previous else 0, count, elapsed)
        return None if estimate <= past else start + self.window - now

    def _id(self, key: str, start: datetime) -> str:
        return f"{self.kind}|{key}|{start.isoformat()}"
