"""An import's progress and its clients, all or none.

Collections, all keyed so that every read is by ``_id`` (FerretDB pushes nothing else down):

    imports/<key>                 office, chunk count, state, the answer to relay; stays small
    import_chunks/<key>:<index>   a chunk is in: its rows' client ids and the rows it lost
    import_outbox/<key>:<index>   the chunk's ClientCreated events and list lines, relayed and
                                  deleted once the import is committed

(``key`` is ``<import id>:<version>``.) FerretDB has no transactions, so "all or none" is made
visible rather than atomic: the import's clients are inserted hidden (``visible: false``, left
out of every read), each keyed by a client id derived from (import id, version, row) so a
re-consumed chunk inserts nothing twice. When every chunk is in, one write of the import
document (``state: committed``) makes them all visible at once (see import_states.py), or they
are all deleted (``rejected``). Every step can be repeated after a crash and ends in the same
state; the events and the answer (ImportCommitted / ImportRejected) are relayed once the import
document says how it ended.

The events are kept beside the clients, one document per chunk, rather than inside each client:
a client document stays half the size (cheaper to insert, to scan, to list), and the relay reads
fourteen documents by key for a 10,000-row import instead of scanning the clients collection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from portal_clients.adapters.client_list import summary_to_json
from portal_clients.adapters.documents import Document, outbox_entry, summary_of, to_document
from portal_clients.adapters.import_states import ImportStates
from portal_clients.adapters.vat_claims import VatClaims
from portal_clients.domain.model import Client
from portal_clients.ports import ImportRecord
from portal_contracts.envelope import Envelope
from portal_contracts.imports import ImportCommitted, ImportRejected, RejectedRow


def import_marker(key: str) -> str:
    return f"i:{key}"


class MongoImports:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.imports = db["imports"]
        self.chunks = db["import_chunks"]
        self.outbox = db["import_outbox"]
        self.clients = db["clients"]
        self.markers = db["outbox_markers"]
        self.rechecks = db["vat_rechecks"]
        self.states = ImportStates(self.imports)
        self.vats = VatClaims(db["company_vats"], self.clients, clock=clock)
        self.clock = clock

    async def begin(self, key: str, office_id: str, chunk_count: int) -> ImportRecord:
        try:
            await self.imports.insert_one(
                {
                    "_id": key,
                    "office_id": office_id,
                    "chunk_count": chunk_count,
                    "state": "receiving",
                    "outbox": [],
                    "created_at": self.clock(),
                }
            )
        except DuplicateKeyError:
            pass
        doc = await self.imports.find_one({"_id": key})
        assert doc is not None  # noqa: S101 - inserted or found just above
        record = ImportRecord(
            key=key,
            office_id=doc["office_id"],
            chunk_count=doc["chunk_count"],
            state=doc["state"],
        )
        if record.state == "receiving":
            for chunk in await self.chunks.find({"_id": {"$in": chunk_keys(record)}}).to_list():
                record.chunks.add(chunk["index"])
                record.lost.extend(RejectedRow.model_validate(r) for r in chunk["lost"])
                record.client_ids.update(zip(chunk["rows"], chunk["client_ids"], strict=True))
        return record

    async def insert_hidden(
        self, key: str, index: int, clients: list[Client]
    ) -> list[tuple[str, str, str]]:
        refused: list[tuple[str, str, str]] = []
        conflicts = await self.vats.claim_many(
            [(c.data.company.vat_number, c.office_id, c.client_id) for c in clients],
            import_ref=key,
        )
        for client_id, conflict in conflicts.items():
            issue = conflict.issues[0]
            refused.append((client_id, issue.field, issue.code))
        docs = [
            to_document(client, visible=False, import_ref=key)
            for client in clients
            if client.client_id not in conflicts
        ]
        for start in range(0, len(docs), 500):
            batch = docs[start : start + 500]
            try:
                await self.clients.insert_many(batch, ordered=False)
            except BulkWriteError as exc:
                for err in exc.details.get("writeErrors", []):
                    refusal = await self._refusal(batch[err["index"]], key)
                    if refusal is not None:
                        refused.append(refusal)
        refused_ids = {client_id for client_id, _, _ in refused}
        created = [c for c in clients if c.client_id not in refused_ids]
        marker = import_marker(key)
        # Replaced whole on a redelivery: nothing of it is relayed before the import commits.
        entries = [outbox_entry(e, marker) for c in created for e in c.pull_events()]
        lines = [summary_to_json(summary_of(c)) for c in created]
        await self.outbox.replace_one(
            {"_id": f"{key}:{index}"},
            {
                # Stored as JSON text: FerretDB decodes a nested document field by field, which
                # costs ~0.3 s per chunk here, and a string in one piece.
                "entries": json.dumps(entries),
                "lines": json.dumps(lines, default=datetime.isoformat),
                "office_id": created[0].office_id if created else "",
            },
            upsert=True,
        )
        return refused

    async def _refusal(self, doc: Document, key: str) -> tuple[str, str, str] | None:
        existing = await self.clients.find_one({"_id": doc["_id"]}, {"import_ref": 1})
        if existing is not None and existing.get("import_ref") == key:
            return None  # inserted by an earlier delivery of this chunk
        await self.vats.release(doc["data"]["company"]["vat_number"], doc["_id"])
        owner = await self.clients.find_one(
            {"data.user.email": doc["data"]["user"]["email"]}, {"_id": 1}
        )
        if owner is not None:
            return doc["_id"], "user.email", "email.taken"
        return doc["_id"], "company.internal_reference", "reference.taken"

    async def record_chunk(
        self, key: str, index: int, lost: list[RejectedRow], created: dict[int, str]
    ) -> None:
        # One insert records the chunk with its outcome: a crash before it redoes the whole
        # chunk, and a second delivery finding it recorded changes nothing.
        try:
            await self.chunks.insert_one(
                {
                    "_id": f"{key}:{index}",
                    "index": index,
                    # Two parallel lists: FerretDB stores no arrays inside arrays.
                    "rows": sorted(created),
                    "client_ids": [created[r] for r in sorted(created)],
                    "lost": [r.model_dump(mode="json") for r in lost],
                }
            )
        except DuplicateKeyError:
            pass

    async def commit(self, key: str, answer: list[ImportCommitted]) -> None:
        """One write makes every client of the import visible (see import_states.py)."""
        await self._insert_marker(key)
        await self._finish(key, "committed", answer)

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        await self._insert_marker(key)
        record = await self.imports.find_one({"_id": key}, {"chunk_count": 1})
        if record is not None:
            keys = [f"{key}:{i}" for i in range(record["chunk_count"])]
            await self.outbox.delete_many({"_id": {"$in": keys}})
        # delete_many: one scan and one statement (deleting one by one costs a scan each).
        await self.vats.claims.delete_many({"import_ref": key})
        await self.rechecks.delete_many({"import_ref": key})
        await self.clients.delete_many({"import_ref": key, "visible": False})
        await self._finish(key, "rejected", answer)

    async def state(self, key: str) -> str | None:
        return await self.states.state(key)

    async def _insert_marker(self, key: str) -> None:
        try:
            await self.markers.insert_one(
                {
                    "_id": import_marker(key),
                    "kind": "import",
                    "import_key": key,
                    "created_at": self.clock(),
                }
            )
        except DuplicateKeyError:
            pass  # a resumed finish

    async def _finish(self, key: str, state: str, answer: Sequence[Envelope[Any]]) -> None:
        marker = import_marker(key)
        await self.imports.update_one(
            {"_id": key},
            {"$set": {"state": state, "outbox": [outbox_entry(e, marker) for e in answer]}},
        )


def chunk_keys(record: ImportRecord) -> list[str]:
    return [f"{record.key}:{i}" for i in range(record.chunk_count)]
