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
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_clients.adapters.client_list import ClientListLog, summary_from_json
from portal_servicekit.polling import PollingLoop

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
        self.import_outbox = db["import_outbox"]
        self.markers = db["outbox_markers"]
        self.landed = db["outbox_landed"]
        self.list_log = ClientListLog(db)
        self.publish = publish
        self.grace = grace
        self.poll_interval_s = poll_interval_s
        self.batch = batch
        self.clock = clock
        self._loop = PollingLoop(
            self._pass, name="clients-outbox-relay", poll_interval_s=poll_interval_s
        )
        self._trimmed_at: datetime | None = None

    async def relay_once(self) -> int:
        """One pass over the oldest markers; returns how many events went out.

        A client marker carries its events and list line; it is published once its write is
        confirmed (``outbox_landed/<marker>``), without reading the client. A marker never
        confirmed is settled after the grace period by reading the client: the events go out if
        the write landed (its writer died just after it), are dropped otherwise. Writes are
        batched: one list-log append per office and one ``delete_many`` per collection per pass.
        """
        markers = await self.markers.find({}).sort("created_at", 1).limit(self.batch).to_list()
        published = 0
        for marker in [m for m in markers if m["kind"] == "import"]:
            published += await self._relay_import(marker)
        client_markers = [m for m in markers if m["kind"] == "client"]
        if not client_markers:
            return published
        landed = {d["_id"] for d in await self.landed.find({}, {"_id": 1}).to_list()}
        by_client: dict[str, list[Document]] = {}
        for marker in client_markers:
            by_client.setdefault(marker["client_id"], []).append(marker)
        done: list[str] = []
        due: dict[str, list[Document]] = {}  # client -> entries, in marker order
        lines: dict[str, list[Document]] = {}  # office -> list lines
        for client_id, ordered in by_client.items():
            for marker in ordered:  # oldest first: one client's events stay in order
                entries = marker["entries"] if marker["_id"] in landed else None
                if entries is None and self._expired(marker):
                    entries = await self._settle(marker)
                if entries is None:
                    break  # maybe still being written: later ones wait behind it
                done.append(marker["_id"])
                if entries:
                    due.setdefault(client_id, []).extend(entries)
                    lines.setdefault(marker["office_id"], []).append(marker["summary"])
        for office_id, office_lines in lines.items():
            # Every process's client list learns about these writes from this append.
            await self.list_log.append(office_id, [summary_from_json(x) for x in office_lines])
        gate = asyncio.Semaphore(32)

        async def publish_in_order(entries: list[Document]) -> None:
            async with gate:
                for entry in entries:
                    await self.publish(entry)

        await asyncio.gather(*(publish_in_order(e) for e in due.values()))
        published += sum(len(e) for e in due.values())
        if done:
            await self.markers.delete_many({"_id": {"$in": done}})
            await self.landed.delete_many({"_id": {"$in": done}})
        return published

    async def _settle(self, marker: Document) -> list[Document]:
        """An unconfirmed, expired marker: publish its events only if the client holds them."""
        head = await self.clients.find_one({"_id": marker["client_id"]}, {"outbox": 1})
        outbox = (head or {}).get("outbox", [])
        return [e for e in outbox if e.get("marker") == marker["_id"]]

    async def _relay_import(self, marker: Document) -> int:
        """A finished import: its clients' events chunk by chunk, then its answer.

        Each chunk's events are deleted once published, so a crash resumes with the next chunk
        (the chunk being published when it died goes out again: same ``event_id``s).
        """
        record = await self.imports.find_one({"_id": marker["import_key"]})
        state = (record or {}).get("state")
        if record is None or state not in {"committed", "rejected"}:
            if self._expired(marker) and record is None:
                await self.markers.delete_one({"_id": marker["_id"]})
            return 0
        published = 0
        if state == "committed":
            for index in range(record["chunk_count"]):
                chunk_id = f"{record['_id']}:{index}"
                chunk = await self.import_outbox.find_one({"_id": chunk_id})
                if chunk is None:
                    continue  # published before a restart
                lines = json.loads(chunk["lines"])
                if lines:
                    # The import's clients join the lists before ImportCommitted says they exist.
                    await self.list_log.append(
                        chunk["office_id"],
                        [
                            summary_from_json(
                                {**x, "created_at": datetime.fromisoformat(x["created_at"])}
                            )
                            for x in lines
                        ],
                    )
                entries = json.loads(chunk["entries"])
                for start in range(0, len(entries), 500):
                    # Different clients: their order does not matter.
                    await asyncio.gather(*(self.publish(e) for e in entries[start : start + 500]))
                await self.import_outbox.delete_one({"_id": chunk_id})
                published += len(entries)
        for entry in record["outbox"]:
            if entry["marker"] == marker["_id"]:
                await self.publish(entry)  # the import's answer goes last
                published += 1
        await self.markers.delete_one({"_id": marker["_id"]})
        return published

    def _expired(self, marker: Document) -> bool:
        created = marker["created_at"]
        created = created if created.tzinfo is not None else created.replace(tzinfo=UTC)
        return bool(self.clock() - created > self.grace)

    # --- running --------------------------------------------------------------------------------

    async def trim_list_log(self, keep: timedelta = timedelta(hours=2)) -> None:
        """Every ten minutes, drop list-log steps older than ``keep`` (the log stays small, and
        FerretDB reads all of it to answer a lookup of an absent key)."""
        now = self.clock()
        if self._trimmed_at is None or now - self._trimmed_at > timedelta(minutes=10):
            self._trimmed_at = now
            await self.list_log.trim(now - keep)

    async def _pass(self) -> int:
        await self.trim_list_log()
        return await self.relay_once()

    def wake(self) -> None:
        """Run a pass now rather than after the pause (called after a write with work)."""
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()


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
