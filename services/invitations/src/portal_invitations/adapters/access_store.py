"""Client access documents in MongoDB (FerretDB), with three small lookup collections.

FerretDB on SQLite answers a filter on ``_id`` (alone, beside other conditions, or ``$in``) from
its key, but scans and decodes the whole collection for any other filter: about a second per
query at 10,000 clients, whatever the indexes. Writes are serialised: an update costs about
2 ms, while one ``insert_many``/``delete_many``/``$in`` find of a hundred documents costs about
what a single insert does. So the hot paths only touch documents by ``_id``, in batches, and
never filter the big collection; what they must find by something else lives in small side
collections that drain:

- ``send_queue``: one entry per client whose invitation waits to be sent (``due_at``);
- ``outbox``: events not yet published (see event_outbox);
- ``token_index``: token hash → client id, for acceptance.

Every update of a client's records happens under that client's lock (see locks: FerretDB
updates are not atomic, so the version filter needs it to be a real compare-and-set); a first
insert needs none (an insert is atomic on ``_id``). The aggregate document stays the single
source of truth and is written FIRST; the side entries after it (but its events before it:
the document's write commits them, see event_outbox). A reader that finds an entry
re-checks the document, so a stale entry only costs a lookup; entries are removed with a
compare-and-delete on ``rev``, so a removal never erases an entry a newer write has just
renewed. A crash between the two writes leaves an entry missing:
:meth:`MongoClientAccess.restore_side_entries` (the worker runs it every minute) finds those
with one full scan.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from portal_invitations.adapters.documents import from_document, to_document
from portal_invitations.adapters.event_mapping import to_envelope
from portal_invitations.adapters.event_outbox import OUTBOX, EventOutbox, outbox_documents
from portal_invitations.adapters.locks import LockTimeout, RecordLocks
from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import Conflict, DueEntry, LockedClients
from portal_servicekit.outbox import outbox_entry

Document = dict[str, Any]
Publish = Callable[[list[Document]], Awaitable[None]]
T = TypeVar("T")
logger = logging.getLogger(__name__)

ACCESS = "client_access"
SEND_QUEUE = "send_queue"
TOKEN_INDEX = "token_index"  # noqa: S105 - a collection name, not a secret

_STATE_ONLY = {"event_ids": 0}
# FerretDB 1.24 keeps each statement of an update command open until the whole command ends,
# and hangs (with every other user of that database) once the open statements of all commands
# reach its 100 SQLite connections: a bulk update of 100 hangs, three of 50 at once too. So
# updates go one per command, a few at once (they are serialised by SQLite anyway).
UPDATES_AT_ONCE = 4
IDS_PER_QUERY = 500
RESTORE_AFTER = timedelta(minutes=1)


def _rev() -> str:
    return uuid.uuid4().hex


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db[SEND_QUEUE].create_index([("due_at", ASCENDING)])


def lock_key(client_id: str) -> str:
    return f"client_access:{client_id}"


async def insert_new(collection: AsyncCollection[Document], docs: list[Document]) -> set[str]:
    """Insert documents in one command; returns the ``_id``s that already existed."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != 11000 for error in errors):
            raise
        return {docs[error["index"]]["_id"] for error in errors}
    return set()


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
        self.queue: AsyncCollection[Document] = db[SEND_QUEUE]
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
        ``publish_now``: publish the new events at once with ``publisher`` and clear them,
        instead of leaving them to the relay (the sender does; it saves the relay's round
        trips). ``done_with``: the queue entry this write settles, removed if nothing is due
        any more and nobody renewed it since.
        """
        settled = {access.client_id: done_with} if done_with is not None else {}
        if access.version == 0:
            if await self.add_new([access], queue=queue):  # an insert is atomic
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

    async def add_new(
        self, accesses: Sequence[ClientAccess], *, queue: bool = True
    ) -> list[ClientAccess]:
        """Insert aggregates never stored (version 0) with one command, then their side
        entries; returns those someone else stored first (nothing of them was written)."""
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
        await self._after_write(written, queue=queue, publish=None, done_with={}, new=True)
        return [w.access for w in writes if w.client_id in taken]

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
    ) -> None:
        """The side entries of documents just written: tokens, events, the send queue."""
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
        await self._queue(due_now, new)
        settled = [
            done_with[w.client_id]
            for w in written
            if w.access.send_due_at is None and w.client_id in done_with
        ]
        if settled:
            # One compare-and-delete for all: revisions are random, so an entry renewed since
            # (a new revision) cannot match.
            await self.queue.delete_many(
                {
                    "_id": {"$in": [e.client_id for e in settled]},
                    "rev": {"$in": [e.rev for e in settled]},
                }
            )

    async def _queue(self, accesses: list[ClientAccess], new: bool) -> None:
        entries = {
            a.client_id: {"due_at": a.send_due_at, "office_id": a.office_id, "rev": _rev()}
            for a in accesses
        }
        # A new client's entry is inserted (cheap, one command); an existing one is renewed.
        exists = (
            await insert_new(self.queue, [{"_id": k, **v} for k, v in entries.items()])
            if new
            else set(entries)
        )
        for client_id in exists:
            await self.queue.update_one(
                {"_id": client_id}, {"$set": entries[client_id]}, upsert=True
            )

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
        query: Document = {"due_at": {"$lte": now}}
        if skip_offices:
            query["office_id"] = {"$nin": sorted(skip_offices)}
        cursor = self.queue.find(query).limit(limit)
        return [DueEntry(d["_id"], d["office_id"], d["rev"]) async for d in cursor]

    async def release_due_locked(self, entry: DueEntry, due_at: datetime | None) -> None:
        """The document says this entry is stale: drop it, or move it to the real due time."""
        if due_at is None:
            await self.queue.delete_one({"_id": entry.client_id, "rev": entry.rev})
        else:
            await self.queue.update_one(
                {"_id": entry.client_id, "rev": entry.rev}, {"$set": {"due_at": due_at}}
            )

    # --- recovery --------------------------------------------------------------------------

    async def restore_side_entries(self, now: datetime | None = None) -> int:
        """Recreate queue entries a crash left missing: one full scan, then per few hundred
        documents one ``$in`` lookup of their entries and one insert.

        Only documents left alone for ``RESTORE_AFTER`` count (the normal gap between a
        document and its entry is milliseconds; a scan of 10,000 documents takes a second, in
        which the sender settles entries the scan still saw as due), and a missing entry is
        restored only if the document has not changed since the scan."""
        now = now or datetime.now(UTC)
        query = {"send_due_at": {"$ne": None}}
        fields = {"send_due_at": 1, "office_id": 1, "version": 1, "written_at": 1}
        seen: dict[str, Document] = {}
        async for doc in self.collection.find(query, fields):
            written = doc.get("written_at")
            if written is None or now - written.astimezone(UTC) >= RESTORE_AFTER:
                seen[doc["_id"]] = doc
        restored = 0
        for ids in chunks(list(seen), IDS_PER_QUERY):
            missing = set(ids) - await self._existing(self.queue, ids)
            if not missing:
                continue
            again = self.collection.find({"_id": {"$in": sorted(missing)}}, fields)
            entries = [
                {
                    "_id": doc["_id"],
                    "due_at": doc["send_due_at"].astimezone(UTC),
                    "office_id": doc["office_id"],
                    "rev": _rev(),
                }
                async for doc in again
                if doc.get("send_due_at") is not None
                and doc["version"] == seen[doc["_id"]]["version"]
            ]
            restored += len(entries) - len(await insert_new(self.queue, entries))
        return restored

    @staticmethod
    async def _existing(collection: AsyncCollection[Document], ids: Sequence[str]) -> set[str]:
        cursor = collection.find({"_id": {"$in": list(ids)}}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}
