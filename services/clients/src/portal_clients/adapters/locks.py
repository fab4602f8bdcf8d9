"""Exclusive writer leases on one record, built on the only atomic primitive FerretDB 1.24 offers.

FerretDB 1.24 (SQLite) runs an update as "read the document in Go, apply the operators, write the
whole document back" with no lock in between: two concurrent updates of one document lose one of
them, and a conditional update (``{_id, version: 3}``) can match twice (measured: 26 of 30 races
had two winners). An *insert* however is checked by SQLite's unique index on ``_id``. So whoever
inserts ``locks/{name}`` first is the only writer of that record until it deletes the lease.

A lease expires, so a writer that crashed does not block the record forever; an expired lease is
taken over by deleting it and inserting a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_clients.domain.errors import Busy

Document = dict[str, Any]


class Leases:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        ttl: timedelta = timedelta(seconds=15),
        wait: timedelta = timedelta(seconds=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.collection = collection
        self.ttl = ttl
        self.wait = wait
        self.clock = clock

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        token = await self.acquire(name)
        try:
            yield
        finally:
            await self.release(name, token)

    async def acquire(self, name: str) -> str:
        token = secrets.token_hex(8)
        deadline = asyncio.get_running_loop().time() + self.wait.total_seconds()
        pause = 0.005
        while True:
            now = self.clock()
            try:
                await self.collection.insert_one(
                    {"_id": name, "token": token, "expires_at": now + self.ttl}
                )
                return token
            except DuplicateKeyError:
                pass
            held = await self.collection.find_one({"_id": name})
            if held is not None and _aware(held["expires_at"]) < now:
                # The holder crashed: take the lease over (only this exact lease is removed).
                await self.collection.delete_one({"_id": name, "token": held["token"]})
                continue
            if asyncio.get_running_loop().time() > deadline:
                raise Busy(name)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    async def release(self, name: str, token: str) -> None:
        await self.collection.delete_one({"_id": name, "token": token})


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
