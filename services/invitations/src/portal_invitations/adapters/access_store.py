"""Client access documents in MongoDB (FerretDB), with three small side collections.

FerretDB on SQLite answers a filter on ``_id`` (alone, beside other conditions, or ``$in``) from
its key, but scans and decodes the whole collection for any other filter: about a second per
query at 10,000 clients, whatever the indexes. Writes are serialised, and an update costs
about 2.3 ms, while one ``insert_many`` of 200 small documents takes about 3 ms and a ``$in``
read or delete of 200 some 20-30 ms. So the hot paths touch documents by ``_id``, in batches,
with as few updates as possible, and never filter the big collection; what they must find by
something else lives in small side collections that drain:

- ``send_queue``: one entry per client whose invitation waits to be sent (see send_queue);
- ``outbox``: events not yet published (see event_outbox);
- ``token_index``: token hash → client id, for acceptance.

Every update of a client's records happens under that client's lock (see locks: FerretDB
updates are not atomic, so the version filter needs it to be a real compare-and-set); a first
insert needs none (an insert is atomic on ``_id``). The client document is the single source
of truth. Its events are written just before it (its write commits them, see event_outbox);
queue entries and tokens just after it. A reader that finds an entry re-checks the document,
so a stale entry only costs a lookup. A crash between a document and its queue entry leaves the
entry missing: :meth:`MongoClientAccess.restore_side_entries` (every minute) restores it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_invitations.adapters.documents import from_document, to_document
from portal_invitations.adapters.event_mapping import to_envelope
from portal_invitations.adapters.event_outbox import OUTBOX, EventOutbox, outbox_documents
from portal_invitations.adapters.locks import LockTimeout, RecordLocks
from portal_invitations.adapters.send_queue import (
    IDS_PER_QUERY,
    SEND_QUEUE,
    SendQueue,
    chunks,
    insert_new,
)
from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import Added, Conflict, DueEntry, LockedClients
from portal_servicekit.outbox import outbox_entry

Document = dict[str, Any]
Publish = Callable[[list[Document]], Awaitable[None]]
logger = logging.getLogger(__name__)

ACCESS = "client_access"
TOKEN_INDEX = "token_index"  # noqa: S105 - a collection name, not a secret

_STATE_ONLY = {"event_ids": 0}
# FerretDB 1.24 keeps each statement of an update command open until the whole command ends,
# and hangs (with every other user of that database) once the open statements of all commands
# reach its 100 SQLite connections: a bulk update of 100 hangs, three of 50 at once too. So
# updates go one per command, a few at once (they are serialised by SQLite anyway).
UPDATES_AT_ONCE = 4


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db[SEND_QUEUE].create_index([("due_at", ASCENDING)])


def lock_key(client_id: str) -> str:
    return f"client_access:{client_id}"


@dataclass
class _Write:
    """One aggregate's pending write and the outbox documents of its new events."""

    access: ClientAccess
    events: list[Document] = field(default_factory=list)
    written_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def client_id(self) -> str:
        return self.access.client_id

    @property
    def event_ids(self) -> list[str]:
        return [doc["_id"] for doc in self.events]


def _writes(accesses: Sequence[ClientAccess], writer_publishes: bool = False) -> list[_Write]:
    now = datetime.now(UTC)
    return [
        _Write(
            a,
            outbox_documents(
                a.client_id,
                a.version + 1,
                [outbox_entry(to_envelope(e)) for e in a.events],
                now,
                writer_publishes=writer_publishes,
            ),
        )
        for a in accesses
    ]


class MongoClientAccess:
    def __init__(self, db: AsyncDatabase[Document], locks: RecordLocks) -> None:
        self.locks = locks
        self.publisher: Publish | None = None  # set where a broker exists (the worker)
        self.collection: AsyncCollection[Document] = db[ACCESS]
        self.queue = SendQueue(db[SEND_QUEUE])
        self.tokens: AsyncCollection[Document] = db[TOKEN_INDEX]
        self.outbox = EventOutbox(db[OUTBOX], self.collection)

    # --- reading ---------------------------------------------------------------------------

    async def get(self, client_id: str) -> ClientAccess | None:
        doc = await self.collection.find_one({"_id": client_id}, _STATE_ONLY)
        return from_document(doc) if doc else None

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        found: dict[str, ClientAccess] = {}
        for part in chunks(list(dict.fromkeys(client_ids)), IDS_PER_QUERY):
            async for doc in self.collection.find({"_id": {"$in": list(part)}}, _STATE_ONLY):
                found[doc["_id"]] = from_document(doc)
        return found

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

    # --- writing ---------------------------------------------------------------------------

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
        ``publish_now``: publish the new events at once with ``publisher`` (behind any older
        pending event of the client) instead of leaving them to the relay (the sender does).
        ``done_with``: the queue entry this write settles, removed if nothing is due any more
        and nobody renewed it since.
        """
        settled = {access.client_id: done_with} if done_with is not None else {}
        if access.version == 0:
            if (await self.add_new([access], queue=queue)).taken:  # an insert is atomic
                raise Conflict(access.client_id)
            return
        try:
            async with self.locks.hold(lock_key(access.client_id)):
                conflicts = await self.write_locked(
                    [access], queue=queue, publish_now=publish_now, done_with=settled
                )
        except LockTimeout as exc:
            raise Conflict(access.client_id) from exc
        if conflicts:
            raise Conflict(access.client_id)

    async def add_new(self, accesses: Sequence[ClientAccess], *, queue: bool = True) -> Added:
        """Insert aggregates never stored (version 0) with one command, then their side
        entries; those someone else stored first are left out (nothing of them written)."""
        writes = _writes(accesses)
        await insert_new(self.outbox.outbox, [doc for w in writes for doc in w.events])
        docs = [
            {
                "_id": w.client_id,
                "version": 1,
                **to_document(w.access),
                "event_ids": w.event_ids,
                "written_at": w.written_at,
            }
            for w in writes
        ]
        taken = await insert_new(self.collection, docs)
        await self.outbox.discard([i for w in writes if w.client_id in taken for i in w.event_ids])
        written = [w for w in writes if w.client_id not in taken]
        for w in written:
            w.access.version = 1
            w.access.events.clear()
        queued = await self._after_write(written, queue=queue, publish=None, done_with={}, new=True)
        return Added([w.access for w in writes if w.client_id in taken], queued)

    async def write_locked(
        self,
        accesses: Sequence[ClientAccess],
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: Mapping[str, DueEntry] | None = None,
    ) -> set[str]:
        """Update stored aggregates whose locks the caller holds, in few commands; returns the
        client ids that changed since they were loaded (nothing of them was written)."""
        if not accesses:
            return set()
        publish = self.publisher if publish_now else None
        writes = _writes(accesses, writer_publishes=publish is not None)
        await insert_new(self.outbox.outbox, [doc for w in writes for doc in w.events])
        matched = await self._update_each([self._update(w) for w in writes])
        conflicts = {w.client_id for w, ok in zip(writes, matched, strict=True) if not ok}
        lost = [i for w in writes if w.client_id in conflicts for i in w.event_ids]
        await self.outbox.discard(lost)  # never committed: they never happened
        written = [w for w in writes if w.client_id not in conflicts]
        for w in written:
            w.access.version += 1
            w.access.events.clear()
        await self._after_write(
            written, queue=queue, publish=publish, done_with=done_with or {}, new=False
        )
        return conflicts

    @staticmethod
    def _update(w: _Write) -> tuple[Document, Document]:
        access = w.access
        fields = {**to_document(access), "version": access.version + 1, "written_at": w.written_at}
        update: Document = {"$set": fields}
        if w.events:
            # The commit of these events. FerretDB ignores $slice: the list keeps every id (a
            # few per client and invitation).
            update["$push"] = {"event_ids": {"$each": w.event_ids}}
        return {"_id": access.client_id, "version": access.version}, update

    async def _update_each(self, updates: list[tuple[Document, Document]]) -> list[bool]:
        """``update_one`` each (filter, update), a few at once; True where one matched."""
        slots = asyncio.Semaphore(UPDATES_AT_ONCE)

        async def one(query: Document, update: Document) -> bool:
            async with slots:
                return (await self.collection.update_one(query, update)).matched_count == 1

        return list(await asyncio.gather(*(one(q, u) for q, u in updates)))

    async def _after_write(
        self,
        written: list[_Write],
        *,
        queue: bool,
        publish: Publish | None,
        done_with: Mapping[str, DueEntry],
        new: bool,
    ) -> dict[str, DueEntry]:
        """The side entries of documents just written: tokens, events, the send queue (the
        entries it wrote are returned)."""
        tokens = [
            {"_id": token_hash, "client_id": w.client_id}
            for w in written
            if (inv := w.access.invitation) is not None and inv.in_flight_until is not None
            for token_hash in inv.token_hashes  # an attempt was just claimed
        ]
        await insert_new(self.tokens, tokens)  # kept from an earlier attempt: already there
        with_events = [w for w in written if w.events]
        if publish is not None and with_events:
            # At once, under the locks the caller holds, behind any older pending event.
            pending = await self.outbox.pending({w.client_id for w in with_events})
            mine = {i for w in with_events for i in w.event_ids}
            await self.outbox.publish(pending, publish, confirmed=mine)
        due_now = [w.access for w in written if w.access.send_due_at is not None and queue]
        queued = await self.queue.point_to(due_now, new=new)
        await self.queue.settle(
            [
                done_with[w.client_id]
                for w in written
                if w.access.send_due_at is None and w.client_id in done_with
            ]
        )
        return queued

    # --- batches for the sender ------------------------------------------------------------

    @asynccontextmanager
    async def locked(self, client_ids: Sequence[str]) -> AsyncIterator[LockedClients]:
        """Lock the clients that are free (others are left out, not waited for) and load them
        under their locks; write them back with :meth:`write_locked` before leaving."""
        async with self.locks.hold_many([lock_key(c) for c in client_ids]) as held:
            mine = [c for c in client_ids if lock_key(c) in held]
            yield LockedClients(frozenset(mine), await self.get_many(mine))

    # --- the send queue ------------------------------------------------------------------------

    async def due_for_sending(
        self, now: datetime, limit: int, skip_offices: frozenset[str]
    ) -> list[DueEntry]:
        return await self.queue.due(now, limit, skip_offices)

    async def release_due_locked(self, entry: DueEntry, due_at: datetime | None) -> None:
        await self.queue.release(entry, due_at)

    async def restore_side_entries(self, now: datetime | None = None) -> int:
        """Recreate send-queue entries a crash left missing (see SendQueue.restore)."""
        return await self.queue.restore(self.collection, now or datetime.now(UTC))
