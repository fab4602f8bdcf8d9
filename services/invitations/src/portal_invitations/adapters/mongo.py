"""MongoDB (FerretDB) adapters: client access documents, office names, sending quotas, and the
accept-guess windows. Every write is a single-document write (FerretDB has no transactions)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_invitations.adapters.documents import from_document, to_document
from portal_invitations.adapters.event_mapping import to_envelope
from portal_invitations.domain.model import ClientAccess
from portal_invitations.domain.sending import hour_window, sliding_estimate, window_start
from portal_invitations.ports import Conflict
from portal_servicekit.mongo import is_duplicate_key
from portal_servicekit.outbox import PENDING, ensure_outbox_index, outbox_entry

Document = dict[str, Any]

ACCESS = "client_access"
OFFICES = "offices"
QUOTAS = "office_send_quotas"
GUESSES = "accept_guesses"

_WITHOUT_OUTBOX = {"outbox": 0}


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    access = db[ACCESS]
    await access.create_index("invitation.token_hashes")
    await access.create_index([("send_due_at", ASCENDING)])
    await access.create_index("office_id")
    await ensure_outbox_index(access)


class MongoClientAccess:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[ACCESS]

    async def get(self, client_id: str) -> ClientAccess | None:
        doc = await self.collection.find_one({"_id": client_id}, _WITHOUT_OUTBOX)
        return from_document(doc) if doc else None

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        doc = await self.collection.find_one(
            {"invitation.token_hashes": token_hash}, _WITHOUT_OUTBOX
        )
        return from_document(doc) if doc else None

    async def save(self, access: ClientAccess) -> None:
        entries = [outbox_entry(to_envelope(e)) for e in access.events]
        fields = to_document(access)
        if access.version == 0:
            doc = {"_id": access.client_id, "version": 1, **fields}
            doc.update({"outbox": entries, PENDING: bool(entries)})
            try:
                await self.collection.insert_one(doc)
            except Exception as exc:
                if is_duplicate_key(exc):
                    raise Conflict(access.client_id) from exc
                raise
        else:
            update: Document = {"$set": {**fields, "version": access.version + 1}}
            if entries:
                # $push, not a rewrite of the outbox: the relay may be removing published
                # entries at this very moment and must not see them come back.
                update["$set"][PENDING] = True
                update["$push"] = {"outbox": {"$each": entries}}
            result = await self.collection.update_one(
                {"_id": access.client_id, "version": access.version}, update
            )
            if result.matched_count != 1:
                raise Conflict(access.client_id)
        access.version += 1
        access.events.clear()

    async def due_for_sending(
        self, now: datetime, limit: int, skip_offices: frozenset[str]
    ) -> list[ClientAccess]:
        query: Document = {"send_due_at": {"$lte": now}}
        if skip_offices:
            query["office_id"] = {"$nin": sorted(skip_offices)}
        cursor = self.collection.find(query, _WITHOUT_OUTBOX).sort("send_due_at", 1).limit(limit)
        return [from_document(doc) async for doc in cursor]


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

    A conditional ``$inc`` on the hour's counter is atomic, so concurrent senders (threads or
    replicas) never exceed the quota; the first slot of an hour creates the counter.
    """

    def __init__(self, db: AsyncDatabase[Document], per_hour: int) -> None:
        self.collection: AsyncCollection[Document] = db[QUOTAS]
        self.per_hour = per_hour

    async def reserve(self, office_id: str, now: datetime) -> datetime | None:
        if self.per_hour <= 0:
            return None
        start = hour_window(now)
        key = f"{office_id}|{start.isoformat()}"
        for _ in range(2):
            taken = await self.collection.update_one(
                {"_id": key, "count": {"$lt": self.per_hour}}, {"$inc": {"count": 1}}
            )
            if taken.matched_count == 1:
                return None
            try:
                await self.collection.insert_one(
                    {"_id": key, "count": 1, "office_id": office_id, "hour": start}
                )
                return None
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                # The hour's counter exists (full, or created by a concurrent sender): re-check.
        return start + timedelta(hours=1)


class MongoGuessLimiter:
    """Sliding-window counter per key (an IP, a token hash), shared by every API replica."""

    def __init__(
        self, db: AsyncDatabase[Document], *, prefix: str, limit: int, window: timedelta
    ) -> None:
        self.collection: AsyncCollection[Document] = db[GUESSES]
        self.prefix = prefix
        self.limit = limit
        self.window = window

    async def hit(self, key: str, now: datetime) -> timedelta | None:
        start = window_start(now, self.window)
        current = await self.collection.find_one_and_update(
            {"_id": f"{self.prefix}|{key}|{start.isoformat()}"},
            {"$inc": {"n": 1}, "$setOnInsert": {"window": start}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
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
