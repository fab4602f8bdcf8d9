"""``send_queue``: one small entry per client whose invitation waits to be sent (``due_at``).

It leads the sender, because finding due invitations in the client documents would scan them
all (FerretDB pushes down only ``_id`` filters). The client document decides; an entry is only
a pointer, written after its document and removed by compare-and-delete on a random ``rev``
(so a removal never erases an entry a newer write has just renewed). A crash between the
document and its entry leaves the entry missing: :meth:`SendQueue.restore` finds those.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import DueEntry

Document = dict[str, Any]
T = TypeVar("T")

SEND_QUEUE = "send_queue"
IDS_PER_QUERY = 500
RESTORE_AFTER = timedelta(minutes=1)


def new_rev() -> str:
    return uuid.uuid4().hex


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


async def existing(collection: AsyncCollection[Document], ids: Sequence[str]) -> set[str]:
    cursor = collection.find({"_id": {"$in": list(ids)}}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


class SendQueue:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def point_to(self, accesses: Sequence[ClientAccess], *, new: bool) -> dict[str, DueEntry]:
        """Entries for these clients at their ``send_due_at``, written after their documents.
        A new client's entry is inserted (one command for all); an existing one renewed."""
        revs = {a.client_id: new_rev() for a in accesses}
        entries: dict[str, Document] = {
            a.client_id: {
                "due_at": a.send_due_at,
                "office_id": a.office_id,
                "rev": revs[a.client_id],
            }
            for a in accesses
        }
        exists = (
            await insert_new(self.collection, [{"_id": k, **v} for k, v in entries.items()])
            if new
            else set(entries)
        )
        for client_id in exists:
            await self.collection.update_one(
                {"_id": client_id}, {"$set": entries[client_id]}, upsert=True
            )
        return {
            a.client_id: DueEntry(a.client_id, a.office_id, revs[a.client_id]) for a in accesses
        }

    async def settle(self, entries: Sequence[DueEntry]) -> None:
        """Remove entries nothing is due for any more, unless renewed since: one
        compare-and-delete for all (revisions are random, so a renewed entry cannot match)."""
        if entries:
            await self.collection.delete_many(
                {
                    "_id": {"$in": [e.client_id for e in entries]},
                    "rev": {"$in": [e.rev for e in entries]},
                }
            )

    async def due(self, now: datetime, limit: int, skip_offices: frozenset[str]) -> list[DueEntry]:
        query: Document = {"due_at": {"$lte": now}}
        if skip_offices:
            query["office_id"] = {"$nin": sorted(skip_offices)}
        cursor = self.collection.find(query).limit(limit)
        return [DueEntry(d["_id"], d["office_id"], d["rev"]) async for d in cursor]

    async def release(self, entry: DueEntry, due_at: datetime | None) -> None:
        """The document says this entry is stale: drop it, or move it to the real due time."""
        if due_at is None:
            await self.collection.delete_one({"_id": entry.client_id, "rev": entry.rev})
        else:
            await self.collection.update_one(
                {"_id": entry.client_id, "rev": entry.rev}, {"$set": {"due_at": due_at}}
            )

    async def restore(self, clients: AsyncCollection[Document], now: datetime) -> int:
        """Recreate entries a crash left missing: one full scan of ``clients``, then per few
        hundred documents one ``$in`` lookup of their entries and one insert.

        Only documents left alone for ``RESTORE_AFTER`` count (the normal gap between a
        document and its entry is milliseconds; a scan of 10,000 documents takes a second, in
        which the sender settles entries the scan still saw as due), and a missing entry is
        restored only if the document has not changed since the scan."""
        fields = {"send_due_at": 1, "office_id": 1, "version": 1, "written_at": 1}
        seen: dict[str, Document] = {}
        async for doc in clients.find({"send_due_at": {"$ne": None}}, fields):
            written = doc.get("written_at")
            if written is None or now - written.astimezone(UTC) >= RESTORE_AFTER:
                seen[doc["_id"]] = doc
        restored = 0
        for ids in chunks(list(seen), IDS_PER_QUERY):
            missing = set(ids) - await existing(self.collection, ids)
            if not missing:
                continue
            again = clients.find({"_id": {"$in": sorted(missing)}}, fields)
            entries = [
                {
                    "_id": doc["_id"],
                    "due_at": doc["send_due_at"].astimezone(UTC),
                    "office_id": doc["office_id"],
                    "rev": new_rev(),
                }
                async for doc in again
                if doc.get("send_due_at") is not None
                and doc["version"] == seen[doc["_id"]]["version"]
            ]
            restored += len(entries) - len(await insert_new(self.collection, entries))
        return restored
