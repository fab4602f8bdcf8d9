"""Publishes the events stored in client and import documents, driven by outbox markers.

Why not servicekit's OutboxRelay: it finds work with ``{outbox_pending: true}``, a full scan of the
clients collection on FerretDB 1.24 at every poll, and removes published events with ``$pull``,
an unlocked read-modify-write that can lose an event a writer appends at the same moment. This
relay never writes an aggregate: it reads the document a marker points to, publishes that
marker's events in order, then deletes the marker. Writers drop published events later.

A crash before the publish leaves the marker: the events go out when the relay runs again. A
crash between the publish and the marker's deletion publishes them again (same ``event_id``);
consumers are idempotent on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_clients.adapters.client_list import ClientListLog
from portal_clients.adapters.documents import summary_from_document
from portal_clients.adapters.import_states import ImportStates

Document = dict[str, Any]
Publish = Callable[[Document], Awaitable[None]]

logger = logging.getLogger(__name__)


class MarkerRelay:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        publish: Publish,
        *,
        grace: timedelta = timedelta(seconds=30),
        poll_interval_s: float = 0.2,
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clients = db["clients"]
        self.imports = db["imports"]
        self.markers = db["outbox_markers"]
        self.list_log = ClientListLog(db)
        self.import_states = ImportStates(db["imports"])
        self.publish = publish
        self.grace = grace
        self.poll_interval_s = poll_interval_s
        self.batch = batch
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._trimmed_at: datetime | None = None

    async def relay_once(self) -> int:
        """One pass over the oldest markers; returns how many events went out.

        Writes are batched because every FerretDB write is a disk transaction: one list-log
        append per office and one ``delete_many`` of the markers done, per pass.
        """
        markers = await self.markers.find({}).sort("created_at", 1).limit(self.batch).to_list()
        published = 0
        for marker in [m for m in markers if m["kind"] == "import"]:
            published += await self._relay_import(marker)
        by_client: dict[str, list[Document]] = {}
        for marker in markers:
            if marker["kind"] == "client":
                by_client.setdefault(marker["client_id"], []).append(marker)
        gate = asyncio.Semaphore(32)

        async def head_of(client_id: str) -> tuple[str, Document | None]:
            async with gate:
                head = await self.clients.find_one({"_id": client_id})
            visible = head is not None and await self.import_states.visible(head)
            return client_id, head if visible else None

        heads = dict(await asyncio.gather(*(head_of(c) for c in by_client)))
        done: list[str] = []
        due: dict[str, list[Document]] = {}  # client -> entries, in marker order
        for client_id, client_markers in by_client.items():
            head = heads[client_id]
            outbox = (head or {}).get("outbox", [])
            for marker in client_markers:  # oldest first: one client's events stay in order
                entries = [e for e in outbox if e.get("marker") == marker["_id"]]
                if entries:
                    due.setdefault(client_id, []).extend(entries)
                    done.append(marker["_id"])
                elif self._expired(marker):
                    done.append(marker["_id"])  # its write never landed
                else:
                    break  # maybe still being written: later ones wait behind it
        offices: dict[str, list[Document]] = {}
        for client_id in due:
            head = heads[client_id]
            assert head is not None  # noqa: S101 - entries come from it
            offices.setdefault(head["office_id"], []).append(head)
        for office_id, office_heads in offices.items():
            # Every process's client list learns about these writes from this append.
            await self.list_log.append(office_id, [summary_from_document(h) for h in office_heads])

        async def publish_in_order(entries: list[Document]) -> None:
            async with gate:
                for entry in entries:
                    await self.publish(entry)

        await asyncio.gather(*(publish_in_order(e) for e in due.values()))
        published += sum(len(e) for e in due.values())
        if done:
            await self.markers.delete_many({"_id": {"$in": done}})
        return published

    async def _relay_import(self, marker: Document) -> int:
        record = await self.imports.find_one({"_id": marker["import_key"]})
        state = (record or {}).get("state")
        if record is None or state not in {"committed", "rejected"}:
            if self._expired(marker) and record is None:
                await self.markers.delete_one({"_id": marker["_id"]})
            return 0
        entries: list[Document] = []
        if state == "committed":
            heads = await self.clients.find({"import_ref": marker["import_key"]}).to_list()
            for head in heads:
                entries.extend(e for e in head.get("outbox", []) if e["marker"] == marker["_id"])
            # The import's clients join the lists before ImportCommitted says they exist.
            if heads:
                await self.list_log.append(
                    heads[0]["office_id"], [summary_from_document(h) for h in heads]
                )
        entries.extend(e for e in record["outbox"] if e["marker"] == marker["_id"])
        for start in range(0, len(entries), 200):
            # Different clients: their order does not matter; the import's answer goes last.
            await asyncio.gather(*(self.publish(e) for e in entries[start : start + 200]))
        await self.markers.delete_one({"_id": marker["_id"]})
        return len(entries)

    def _expired(self, marker: Document) -> bool:
        created = marker["created_at"]
        created = created if created.tzinfo is not None else created.replace(tzinfo=UTC)
        return bool(self.clock() - created > self.grace)

    # --- running --------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def trim_list_log(self, keep: timedelta = timedelta(hours=2)) -> None:
        """Every ten minutes, drop list-log steps older than ``keep`` (the log stays small, and
        FerretDB reads all of it to answer a lookup of an absent key)."""
        now = self.clock()
        if self._trimmed_at is None or now - self._trimmed_at > timedelta(minutes=10):
            self._trimmed_at = now
            await self.list_log.trim(now - keep)

    async def run(self) -> None:
        while True:
            try:
                await self.trim_list_log()
                count = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox relay pass failed; retrying")
                count = 0
            if count == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="clients-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def kafka_publisher(broker: Any, topics: Any) -> Publish:
    """Publish a stored outbox entry on its topic, keyed by its aggregate id."""

    async def publish(entry: Document) -> None:
        await broker.publish(
            entry["body"],
            topic=topics.of(entry["event_type"]),
            key=entry["key"].encode(),
            headers={"event_id": entry["event_id"], "event_type": entry["event_type"]},
            correlation_id=entry["correlation_id"],
        )

    return publish
