"""The transactional outbox: events wait in a small ``outbox`` collection, confirmed by the
client's document.

A write with events first inserts them here (one document per event, ``_id`` = event id), then
updates the client's document, whose ``event_ids`` then lists them: that update is the commit.
An event is published only once its client's document confirms it, so a write that never
happened (a crash between the two steps, a lost compare-and-set) never publishes anything, and
a write that happened always does: whoever wrote publishes at once when it can, otherwise the
relay does. Published events are deleted from here, not from the client's document.

Why not events in an array of the client's document (servicekit's outbox): removing them once
published is one more update of that document per event, and on FerretDB updates are the
expensive, serialised operation (about 2 ms each), while inserting and deleting a batch here
costs about as much as one. This collection only holds what is not yet published, so the one
query that is not by ``_id`` (the pending events of a few clients) scans a few documents.

Order: a client's events are published in the order they were written (``seq``), all under the
client's lock, and a later event waits while an earlier one is unconfirmed or unpublished.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]
Publish = Callable[[list[Document]], Awaitable[None]]
logger = logging.getLogger(__name__)

OUTBOX = "outbox"
# An event its writer never confirmed within this (far above the lock's 15 s) never happened.
ORPHAN_AFTER = timedelta(minutes=2)
# The relay leaves this long to a writer that publishes its events itself (the sender).
WRITER_GRACE = timedelta(seconds=5)


def outbox_documents(
    client_id: str,
    version: int,
    entries: Sequence[Document],
    now: datetime,
    *,
    writer_publishes: bool = False,
) -> list[Document]:
    """The outbox documents of ``entries`` written by the write that makes ``version``. The
    event's body is kept as JSON text: FerretDB decodes every document a query scans, and a
    nested body doubles the cost of the scans below."""
    return [
        {
            "_id": entry["event_id"],
            "client_id": client_id,
            "seq": f"{version:010d}.{n:04d}",
            "written_at": now,
            "writer_publishes": writer_publishes,
            **entry,
            "body": json.dumps(entry["body"], separators=(",", ":")),
        }
        for n, entry in enumerate(entries)
    ]


class EventOutbox:
    def __init__(
        self, outbox: AsyncCollection[Document], clients: AsyncCollection[Document]
    ) -> None:
        self.outbox = outbox
        self.clients = clients

    async def pending(self, client_ids: Collection[str] | None = None) -> list[Document]:
        """Pending events (of these clients), oldest first per client."""
        query = {} if client_ids is None else {"client_id": {"$in": sorted(client_ids)}}
        docs = await self.outbox.find(query).to_list()
        for doc in docs:
            doc["body"] = json.loads(doc["body"])
        return sorted(docs, key=lambda d: (d["client_id"], d["seq"]))

    async def clients_to_relay(self, now: datetime, limit: int) -> list[str]:
        """Clients with pending events the relay should look at (not those their writer is
        publishing right now)."""
        fields = {"client_id": 1, "written_at": 1, "writer_publishes": 1}
        clients: set[str] = set()
        async for doc in self.outbox.find({}, fields).limit(limit):
            young = now - doc["written_at"].astimezone(UTC) < WRITER_GRACE
            if not (doc.get("writer_publishes") and young):
                clients.add(doc["client_id"])
        return sorted(clients)

    async def discard(self, event_ids: Collection[str]) -> None:
        if event_ids:
            await self.outbox.delete_many({"_id": {"$in": sorted(event_ids)}})

    async def publish(
        self,
        docs: Sequence[Document],
        publish: Publish,
        confirmed: Collection[str] = frozenset(),
        now: datetime | None = None,
    ) -> int:
        """Publish ``docs`` (pending events of clients whose locks the caller holds) in order,
        those the client documents confirm; delete what was published and what never happened.
        ``confirmed``: event ids the caller just committed itself (no need to read them).
        Returns how many were published."""
        now = now or datetime.now(UTC)
        by_client: dict[str, list[Document]] = {}
        for doc in docs:
            by_client.setdefault(doc["client_id"], []).append(doc)
        unsure = [c for c, ds in by_client.items() if any(d["_id"] not in confirmed for d in ds)]
        committed = set(confirmed) | await self._committed(unsure)
        done: list[str] = []
        published = 0

        async def one(client_docs: list[Document]) -> None:
            nonlocal published
            for doc in sorted(client_docs, key=lambda d: d["seq"]):
                if doc["_id"] not in committed:
                    if now - doc["written_at"].astimezone(UTC) > ORPHAN_AFTER:
                        done.append(doc["_id"])  # its write never happened
                        continue
                    return  # its writer may still commit it; later events wait behind it
                try:
                    await publish([doc])
                except Exception:
                    logger.exception("publishing %s failed; it will be retried", doc["_id"])
                    return
                done.append(doc["_id"])
                published += 1

        await asyncio.gather(*(one(ds) for ds in by_client.values()))
        await self.discard(done)
        return published

    async def _committed(self, client_ids: Sequence[str]) -> set[str]:
        if not client_ids:
            return set()
        cursor = self.clients.find({"_id": {"$in": list(client_ids)}}, {"event_ids": 1})
        return {event_id async for doc in cursor for event_id in doc.get("event_ids", [])}
