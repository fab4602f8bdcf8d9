"""Short per-record locks, because FerretDB 1.24 (SQLite) updates are not atomic.

Measured on this repository's FerretDB (see the service's report): ten concurrent
``update_one({"_id": x, "version": 1}, {"$set": {"version": 2}})`` calls let two of them match
in half the trials, and ten concurrent ``$inc`` lose about half their increments. An update is
read, changed and written back without isolation, so a version filter alone is no
compare-and-set. Inserts, however, are atomic on ``_id`` (a duplicate always fails).

So every writer of a record first inserts ``locks/{key}``, writes (the version filter then
holds, since nobody else writes meanwhile), and deletes its lock. A lock whose holder died
expires after ``ttl``. Holding times are milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_servicekit.mongo import is_duplicate_key

Document = dict[str, Any]
LOCKS = "locks"


class LockTimeout(Exception):
    """Another writer held the record for longer than we are willing to wait."""


class RecordLocks:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        ttl: timedelta = timedelta(seconds=15),
        wait_s: float = 10.0,
    ) -> None:
        self.collection: AsyncCollection[Document] = db[LOCKS]
        self.ttl = ttl
        self.wait_s = wait_s

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        owner = uuid.uuid4().hex
        await self._acquire(key, owner)
        try:
            yield
        finally:
            await self.collection.delete_one({"_id": key, "owner": owner})

    async def _acquire(self, key: str, owner: str) -> None:
        deadline = time.monotonic() + self.wait_s
        pause = 0.002
        while True:
            now = datetime.now(UTC)
            try:
                await self.collection.insert_one(
                    {"_id": key, "owner": owner, "until": now + self.ttl}
                )
                return
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
            held = await self.collection.find_one({"_id": key})
            if held is not None and held["until"].astimezone(UTC) < now:
                # Its holder died: take it over (a crash case; the lock is otherwise held ms).
                await self.collection.delete_one({"_id": key, "owner": held["owner"]})
                continue
            if time.monotonic() > deadline:
                raise LockTimeout(key)
            await asyncio.sleep(pause * (1 + random.random()))  # noqa: S311 - jitter, not crypto
            pause = min(pause * 2, 0.05)
