"""MongoDB (FerretDB) adapters: office names, per-office sending quotas, and the accept-guess
windows. Every write is a single-document write (FerretDB has no transactions); every lookup
is by ``_id`` (see access_store for why)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_invitations.adapters.locks import LockTimeout, RecordLocks
from portal_invitations.domain.sending import hour_window, sliding_estimate, window_start
from portal_invitations.ports import Reservation

Document = dict[str, Any]

OFFICES = "offices"
QUOTAS = "office_send_quotas"
GUESSES = "accept_guesses"


class MongoOfficeNames:
    """Office names set through the admin endpoint, over defaults from the settings."""

    def __init__(self, db: AsyncDatabase[Document], defaults: dict[str, str]) -> None:
        self.collection: AsyncCollection[Document] = db[OFFICES]
        self.defaults = dict(defaults)

    async def name_of(self, office_id: str) -> str | None:
        doc = await self.collection.find_one({"_id": office_id})
        return doc["name"] if doc else self.defaults.get(office_id)

    async def set_name(self, office_id: str, name: str) -> None:
        await self.collection.update_one({"_id": office_id}, {"$set": {"name": name}}, upsert=True)


class MongoOfficeSendLimit:
    """At most ``per_hour`` invitations per office and clock hour (0: no limit).

    The hour's counter is read and incremented under a lock (FerretDB's ``$inc`` is not atomic:
    concurrent increments get lost), so concurrent senders and replicas never exceed it.
    """

    def __init__(self, db: AsyncDatabase[Document], per_hour: int, locks: RecordLocks) -> None:
        self.collection: AsyncCollection[Document] = db[QUOTAS]
        self.per_hour = per_hour
        self.locks = locks

    async def reserve(self, office_id: str, now: datetime, wanted: int = 1) -> Reservation:
        """Take up to ``wanted`` slots at once: the sender asks once per office and batch."""
        if self.per_hour <= 0:
            return Reservation(wanted)
        start = hour_window(now)
        key = f"{office_id}|{start.isoformat()}"
        reopens = start + timedelta(hours=1)
        try:
            async with self.locks.hold(f"quota:{key}"):
                counter = await self.collection.find_one({"_id": key})
                used = counter["count"] if counter is not None else 0
                granted = max(0, min(wanted, self.per_hour - used))
                if granted:
                    await self.collection.update_one(
                        {"_id": key},
                        {
                            "$inc": {"count": granted},
                            "$setOnInsert": {"office_id": office_id, "hour": start},
                        },
                        upsert=True,
                    )
        except LockTimeout:
            # Busy: try again shortly, nothing is dropped.
            return Reservation(0, now + timedelta(seconds=5))
        return Reservation(granted, reopens if granted < wanted else None)


class MongoGuessLimiter:
    """Sliding-window counter per key (an IP, a token hash), shared by every API replica;
    counted under a lock, because concurrent guesses would otherwise lose increments."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        locks: RecordLocks,
        *,
        prefix: str,
        limit: int,
        window: timedelta,
    ) -> None:
        self.locks = locks
        self.collection: AsyncCollection[Document] = db[GUESSES]
        self.prefix = prefix
        self.limit = limit
        self.window = window

    async def hit(self, key: str, now: datetime) -> timedelta | None:
        start = window_start(now, self.window)
        counter = f"{self.prefix}|{key}|{start.isoformat()}"
        try:
            async with self.locks.hold(f"guesses:{counter}"):
                current = await self.collection.find_one_and_update(
                    {"_id": counter},
                    {"$inc": {"n": 1}, "$setOnInsert": {"window": start}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
        except LockTimeout:
            return self.window / 10  # hammered so hard the counter is busy: refuse for now
        previous = await self.collection.find_one(
            {"_id": f"{self.prefix}|{key}|{(start - self.window).isoformat()}"}
        )
        elapsed = (now - start) / self.window
        count = current["n"] if current else 1
        estimate = sliding_estimate(previous["n"] if previous else 0, count, elapsed)
        if estimate <= self.limit:
            return None
        return start + self.window - now

    async def forget_before(self, moment: datetime) -> None:
        """Old windows are useless; FerretDB has no TTL index, so the worker prunes them."""
        await self.collection.delete_many({"window": {"$lt": moment}})
