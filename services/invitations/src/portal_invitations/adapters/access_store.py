"""Client access documents in MongoDB (FerretDB), with three small lookup collections.

FerretDB on SQLite answers a query on ``_id`` from its key but scans (and decodes) the whole
collection for any other filter: about a second per query at 10,000 clients, whatever the
indexes. So the hot paths never filter the big collection; they read small side collections
keyed by ``_id`` or holding only what is pending:

- ``send_queue``: one entry per client whose invitation waits to be sent (``due_at``);
- ``outbox_hints``: one entry per client whose document holds unpublished events;
- ``token_index``: token hash → client id, for acceptance.

Every write of a client's records happens under that client's lock (see locks: FerretDB
updates are not atomic, so the version filter needs it to be a real compare-and-set).
The aggregate document stays the single source of truth and is written FIRST; the side entry
is written after it. A reader that finds an entry re-checks the document, so a stale entry only
costs a lookup; entries are removed with a compare-and-delete on ``rev``, so a removal never
erases an entry a newer write has just renewed. A crash between the two writes leaves an entry
missing; :meth:`MongoClientAccess.restore_side_entries` (the worker runs it every minute) finds
those with one full scan.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_invitations.adapters.documents import from_document, to_document
from portal_invitations.adapters.event_mapping import to_envelope
from portal_invitations.adapters.locks import LockTimeout, RecordLocks
from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import Conflict, DueEntry
from portal_servicekit.mongo import is_duplicate_key
from portal_servicekit.outbox import PENDING, outbox_entry

Document = dict[str, Any]
Publish = Callable[[list[Document]], Awaitable[None]]
logger = logging.getLogger(__name__)

ACCESS = "client_access"
SEND_QUEUE = "send_queue"
OUTBOX_HINTS = "outbox_hints"
TOKEN_INDEX = "token_index"  # noqa: S105 - a collection name, not a secret

_WITHOUT_OUTBOX = {"outbox": 0}


def _rev() -> str:
    return uuid.uuid4().hex


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db[SEND_QUEUE].create_index([("due_at", ASCENDING)])


def lock_key(client_id: str) -> str:
    return f"client_access:{client_id}"


class MongoClientAccess:
    def __init__(self, db: AsyncDatabase[Document], locks: RecordLocks) -> None:
        self.locks = locks
        self.publisher: Publish | None = None  # set where a broker exists (the worker)
        self.collection: AsyncCollection[Document] = db[ACCESS]
        self.queue: AsyncCollection[Document] = db[SEND_QUEUE]
        self.hints: AsyncCollection[Document] = db[OUTBOX_HINTS]
        self.tokens: AsyncCollection[Document] = db[TOKEN_INDEX]

    async def get(self, client_id: str) -> ClientAccess | None:
        doc = await self.collection.find_one({"_id": client_id}, _WITHOUT_OUTBOX)
        return from_document(doc) if doc else None

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        entry = await self.tokens.find_one({"_id": token_hash})
        if entry is None:
            return None
        access = await self.get(entry["client_id"])
        inv = access.invitation if access is not None else None
        if inv is None or token_hash not in inv.token_hashes:
            # The token was voided or used: its hash will never be valid again.
            await self.tokens.delete_one({"_id": token_hash})
            return None
        return access

    async def save(
        self,
        access: ClientAccess,
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: DueEntry | None = None,
    ) -> None:
        """Write the document, then its side entries, in one locked section.

        ``queue=False``: leave the send queue as it is (a claim: the entry already points here).
        ``publish_now``: publish the new events at once with ``publisher`` and clear them,
        instead of leaving them to the relay (the sender does; it saves the relay's round
        trips). ``done_with``: the queue entry this write settles, removed if nothing is due
        any more and nobody renewed it since.
        """
        publish = self.publisher if publish_now else None
        if access.version == 0:
            await self._save(access, queue, publish, done_with)  # an insert is atomic
            return
        try:
            async with self.locks.hold(lock_key(access.client_id)):
                await self._save(access, queue, publish, done_with)
        except LockTimeout as exc:
            raise Conflict(access.client_id) from exc

    async def _save(
        self,
        access: ClientAccess,
        queue: bool,
        publish: Publish | None,
        done_with: DueEntry | None,
    ) -> None:
        first_write = access.version == 0
        entries = await self._write(access)
        client_id = access.client_id
        inv = access.invitation
        if inv is not None and inv.in_flight_until is not None:  # an attempt was just claimed
            for token_hash in inv.token_hashes:
                try:
                    await self.tokens.insert_one({"_id": token_hash, "client_id": client_id})
                except Exception as exc:
                    if not is_duplicate_key(exc):  # kept from an earlier attempt: already there
                        raise
        if entries:
            await self._announce(client_id, entries, publish)
        due = access.send_due_at
        if due is not None and queue:
            entry = {"due_at": due, "office_id": access.office_id, "rev": _rev()}
            if not (first_write and await self._inserted(self.queue, client_id, entry)):
                await self.queue.update_one({"_id": client_id}, {"$set": entry}, upsert=True)
        elif due is None and done_with is not None:
            await self.queue.delete_one({"_id": client_id, "rev": done_with.rev})

    @staticmethod
    async def _inserted(collection: AsyncCollection[Document], key: str, fields: Document) -> bool:
        """Insert when it is new: on FerretDB an insert is cheap, an upsert scans the table."""
        try:
            await collection.insert_one({"_id": key, **fields})
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True

    async def _announce(
        self, client_id: str, entries: list[Document], publish: Publish | None
    ) -> None:
        if publish is not None:
            try:
                await publish(entries)
            except Exception:
                logger.exception("publishing now failed; the relay will publish %s", client_id)
            else:
                await self.collection.update_one(
                    {"_id": client_id}, {"$set": {"outbox": [], PENDING: False}}
                )
                return
        await self.hints.update_one({"_id": client_id}, {"$set": {"rev": _rev()}}, upsert=True)

    async def _write(self, access: ClientAccess) -> list[Document]:
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
        return entries

    # --- the send queue ------------------------------------------------------------------------

    async def due_for_sending(
        self, now: datetime, limit: int, skip_offices: frozenset[str]
    ) -> list[DueEntry]:
        query: Document = {"due_at": {"$lte": now}}
        if skip_offices:
            query["office_id"] = {"$nin": sorted(skip_offices)}
        cursor = self.queue.find(query).limit(limit)
        return [DueEntry(d["_id"], d["office_id"], d["rev"]) async for d in cursor]

    async def release_due(self, entry: DueEntry, due_at: datetime | None) -> None:
        """The document says this entry is stale: drop it, or move it to the real due time."""
        async with self.locks.hold(lock_key(entry.client_id)):
            if due_at is None:
                await self.queue.delete_one({"_id": entry.client_id, "rev": entry.rev})
            else:
                await self.queue.update_one(
                    {"_id": entry.client_id, "rev": entry.rev}, {"$set": {"due_at": due_at}}
                )

    # --- recovery --------------------------------------------------------------------------

    async def restore_side_entries(self) -> int:
        """Recreate queue entries and outbox hints a crash left missing (one full scan)."""
        restored = 0
        query = {"$or": [{"send_due_at": {"$ne": None}}, {PENDING: True}]}
        fields = {"send_due_at": 1, "office_id": 1, PENDING: 1}
        async for doc in self.collection.find(query, fields):
            if doc.get("send_due_at") is not None:
                due = doc["send_due_at"].astimezone(UTC)
                insert = {"due_at": due, "office_id": doc["office_id"], "rev": _rev()}
                result = await self.queue.update_one(
                    {"_id": doc["_id"]}, {"$setOnInsert": insert}, upsert=True
                )
                restored += 1 if result.upserted_id is not None else 0
            if doc.get(PENDING):
                result = await self.hints.update_one(
                    {"_id": doc["_id"]}, {"$setOnInsert": {"rev": _rev()}}, upsert=True
                )
                restored += 1 if result.upserted_id is not None else 0
        return restored
