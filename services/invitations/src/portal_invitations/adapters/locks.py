"""Short per-record locks, because FerretDB 1.24 (SQLite) updates are not atomic.

Measured on this repository's FerretDB (see the service's report): ten concurrent
``update_one({"_id": x, "version": 1}, {"$set": {"version": 2}})`` calls let two of them match
in half the trials, and ten concurrent ``$inc`` lose about half their increments. An update is
read, changed and written back without isolation, so a version filter alone is no
compare-and-set. Inserts, however, are atomic on ``_id`` (a duplicate always fails).

So every writer of a record first inserts ``locks/{key}``, writes (the version filter then
holds, since nobody else writes meanwhile), and deletes its lock. A lock whose holder died
expires after ``ttl``. Holding times are milliseconds.

The sender works in batches: :meth:`RecordLocks.hold_many` takes the locks of many records with
one ``insert_many`` and frees them with one ``delete_many`` (on FerretDB a batch costs about
what one insert costs); records locked by someone else are left out, not waited for.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

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

    @asynccontextmanager
    async def hold_many(self, keys: Sequence[str]) -> AsyncIterator[set[str]]:
        """Lock what is free among ``keys`` (no waiting); yields the keys this holder got."""
        owner = uuid.uuid4().hex
        held = await self._try_many(list(dict.fromkeys(keys)), owner)
        try:
            yield held
        finally:
            if held:
                await self.collection.delete_many({"_id": {"$in": sorted(held)}, "owner": owner})

    async def _try_many(self, keys: list[str], owner: str) -> set[str]:
        if not keys:
            return set()
        busy = await self._insert_many(keys, owner)
        if busy:
            # Locks whose holder died are taken over (a crash case), then tried once more.
            now = datetime.now(UTC)
            expired = []
            async for held in self.collection.find({"_id": {"$in": sorted(busy)}}):
                if held["until"].astimezone(UTC) < now:
                    await self.collection.delete_one({"_id": held["_id"], "owner": held["owner"]})
                    expired.append(held["_id"])
            if expired:
                busy = (busy - set(expired)) | await self._insert_many(expired, owner)
        return set(keys) - busy

    async def _insert_many(self, keys: list[str], owner: str) -> set[str]:
        """Insert the locks; returns the keys someone else holds."""
        until = datetime.now(UTC) + self.ttl
        try:
            await self.collection.insert_many(
                [{"_id": key, "owner": owner, "until": until} for key in keys], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != 11000 for error in errors):
                raise
            return {keys[error["index"]] for error in errors}
        return set()
