"""An import's progress (``imports/<import id>:<version>``) and its clients, all or none.

FerretDB has no transactions, so "all or none" is made visible rather than atomic: the import's
clients are inserted hidden (``visible: false``, left out of every read), each keyed by a client
id derived from (import id, version, row) so a re-consumed chunk inserts nothing twice. When every
chunk is in, one write of the import document (``state: committed``) makes them all visible at
once (see import_states.py), or they are all deleted (``rejected``). Every step can be repeated
after a crash and ends in the same state; the answer (ImportCommitted / ImportRejected) and the
clients' ClientCreated events are relayed once the import document says how it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from portal_clients.adapters.documents import Document, outbox_entry, to_document
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
                    "chunks": [],
                    "lost": [],
                    "rows": [],
                    "outbox": [],
                    "created_at": self.clock(),
                }
            )
        except DuplicateKeyError:
            pass
        doc = await self.imports.find_one({"_id": key})
        assert doc is not None  # noqa: S101 - inserted or found just above
        return ImportRecord(
            key=key,
            office_id=doc["office_id"],
            chunk_count=doc["chunk_count"],
            state=doc["state"],
            chunks=set(doc["chunks"]),
            lost=[RejectedRow.model_validate(r) for r in doc["lost"]],
            client_ids={r["row"]: r["client_id"] for r in doc.get("rows", [])},
        )

    async def insert_hidden(self, key: str, clients: list[Client]) -> list[tuple[str, str, str]]:
        refused: list[tuple[str, str, str]] = []
        conflicts = await self.vats.claim_many(
            [(c.data.company.vat_number, c.office_id, c.client_id) for c in clients],
            import_ref=key,
        )
        for client_id, conflict in conflicts.items():
            issue = conflict.issues[0]
            refused.append((client_id, issue.field, issue.code))
        marker = import_marker(key)
        docs = []
        for client in clients:
            if client.client_id in conflicts:
                continue
            doc = to_document(client, visible=False, import_ref=key)
            doc["outbox"] = [outbox_entry(e, marker) for e in client.pull_events()]
            docs.append(doc)
        for start in range(0, len(docs), 500):
            batch = docs[start : start + 500]
            try:
                await self.clients.insert_many(batch, ordered=False)
            except BulkWriteError as exc:
                for err in exc.details.get("writeErrors", []):
                    refusal = await self._refusal(batch[err["index"]], key)
                    if refusal is not None:
                        refused.append(refusal)
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
        # Only this import's consumer writes its document (one partition per import id), and one
        # update records the chunk with its outcome: a crash before it redoes the whole chunk.
        push: dict[str, Any] = {
            "rows": {"$each": [{"row": r, "client_id": c} for r, c in sorted(created.items())]}
        }
        if lost:
            push["lost"] = {"$each": [r.model_dump(mode="json") for r in lost]}
        await self.imports.update_one({"_id": key}, {"$addToSet": {"chunks": index}, "$push": push})

    async def commit(self, key: str, event: ImportCommitted) -> None:
        """One write makes every client of the import visible (see import_states.py)."""
        await self._insert_marker(key)
        await self._finish(key, "committed", event)

    async def reject(self, key: str, event: ImportRejected) -> None:
        await self._insert_marker(key)
        # delete_many: one scan and one statement (deleting one by one costs a scan each).
        await self.vats.claims.delete_many({"import_ref": key})
        await self.rechecks.delete_many({"import_ref": key})
        await self.clients.delete_many({"import_ref": key, "visible": False})
        await self._finish(key, "rejected", event)

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

    async def _finish(self, key: str, state: str, event: Envelope[Any]) -> None:
        await self.imports.update_one(
            {"_id": key},
            {"$set": {"state": state, "outbox": [outbox_entry(event, import_marker(key))]}},
        )
