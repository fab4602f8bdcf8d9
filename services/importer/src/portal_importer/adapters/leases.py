"""A short exclusive lease on one import, so that its conditional writes are really conditional.

FerretDB 1.24 (SQLite) runs an update as read, modify, write back with no lock in between: two
writes conditional on the same ``revision`` may both match (the clients service measured two
winners in 26 of 30 races). An insert, however, is checked by SQLite's unique index on ``_id``:
whoever inserts ``import_leases/<import id>`` first is the only writer until it deletes it. The
lease is held for a compare-and-write of a few milliseconds; it expires, so a writer that died
holding it blocks nobody for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


class LeaseBusy(Exception):
    """Another writer kept the import longer than we could wait: the write is retried later."""


class Leases:
    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        *,
        ttl: timedelta = timedelta(seconds=10),
        wait_s: float = 5.0,
    ) -> None:
        self.collection = collection
        self.ttl = ttl
        self.wait_s = wait_s

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        pause = 0.002
        while True:
            now = datetime.now(UTC)
            try:
                await self.collection.insert_one(
                    {"_id": name, "token": token, "expires_at": now + self.ttl}
                )
                break
            except DuplicateKeyError:
                pass
            held = await self.collection.find_one({"_id": name})
            if held is not None and _aware(held["expires_at"]) < now:
                # Its holder died: remove that very lease (not a newer one) and try again.
                await self.collection.delete_one({"_id": name, "token": held["token"]})
                continue
            if loop.time() > deadline:
                raise LeaseBusy(name)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            await self.collection.delete_one({"_id": name, "token": token})


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
