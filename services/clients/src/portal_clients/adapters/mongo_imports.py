"""An import's chunks, and its clients created all or none.

    imports/<key>                  office, chunk count, chunks received, state
    import_chunks/<key>:<index>    a chunk's rows as the importer sent them
    import_events/<key>:<n>        outbox records held back until the import is committed

(``key`` = "<import id>:<version>".) A chunk is kept in one transaction with the import's list
of received chunks, so a redelivered chunk changes nothing. Once every chunk is in:

- **Up to ``rows_per_transaction`` rows** (the usual case): ONE transaction inserts every
  client, their ClientCreated (500 per outbox record), the ImportCommitted parts and the
  import's ``state: committed``; it is conditional on ``state: receiving``, so it happens once.
- **More rows** do not fit one transaction (measured on SecantusDB, `bench_clients.py --probe`:
  with a 1 GB cache 7,500 clients with their indexes and events commit, 10,000 fail with
  TransactionTooLargeForCache; with 512 MB, 3,500 commit and 5,000 fail; MongoDB has the same
  kind of limit, a share of its cache). They are
  inserted ``rows_per_transaction`` at a time, each batch with ``pending_import: <key>`` and
  its ClientCreated held in ``import_events`` (each batch one transaction, counted in the
  import document, so a resumed import skips the batches done). Readers leave out every client
  of an import not yet committed (``client_lists.importing``; ``get`` reads the import's
  state), so nobody sees part of it. The commit is then one small transaction (``state:
  committed`` + the answer, held too), after which the held records move to the outbox a few
  per transaction, ClientCreated first and the answer last. A crash at any step is resumed by
  the redelivered last chunk: batches continue, held records continue to move.
- A rejection deletes whatever a batched attempt inserted, then one transaction sets ``state:
  rejected`` and puts ImportRejected in the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from portal_clients.adapters.client_list import ClientLists
from portal_clients.adapters.documents import Document, to_document
from portal_clients.adapters.mongo_clients import MongoClients
from portal_clients.domain.errors import RowsRefused
from portal_clients.domain.model import Client, with_current_states
from portal_clients.ports import ImportChunk, ImportLine, ImportStatus
from portal_contracts.envelope import Envelope
from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_servicekit.mongo import Session, is_duplicate_key
from portal_servicekit.outbox import records_of
from portal_servicekit.runtime import Runtime

RECORDS_PER_MOVE = 8  # held outbox records moved per transaction (~4,000 events)


def _range(key: str) -> Document:
    """Every ``<key>:…`` id: chunk ids and held records sort under their import's key."""
    return {"_id": {"$gt": f"{key}:", "$lt": f"{key};"}}


class MongoImports:
    def __init__(
        self,
        runtime: Runtime,
        clients: MongoClients,
        lists: ClientLists,
        *,
        rows_per_transaction: int,
    ) -> None:
        self.runtime = runtime
        db = runtime.db
        self.imports = db["imports"]
        self.chunks = db["import_chunks"]
        self.held = db["import_events"]
        self.clients = clients
        self.client_docs = clients.clients
        self.lists = lists
        self.rows_per_transaction = rows_per_transaction

    async def prepare(self) -> None:
        await self.client_docs.create_index(
            "pending_import", partialFilterExpression={"pending_import": {"$exists": True}}
        )

    async def receive(self, chunk: ImportChunk) -> ImportStatus:
        async def work(session: Session) -> Document:
            doc = await self.imports.find_one({"_id": chunk.key}, session=session)
            if doc is None:
                doc = {
                    "_id": chunk.key,
                    "office_id": chunk.office_id,
                    "chunk_count": chunk.count,
                    "received": [],
                    "state": "receiving",
                    "created_at": datetime.now(UTC),
                }
                await self.imports.insert_one(doc, session=session)
            if doc["state"] != "receiving" or chunk.index in doc["received"]:
                return doc
            lines = [
                {
                    "row": line.row_number,
                    "invite": line.invite,
                    "client": line.client,
                    "skip_vat_check": line.skip_vat_check,
                }
                for line in chunk.lines
            ]
            await self.chunks.insert_one(
                {"_id": f"{chunk.key}:{chunk.index:06d}", "lines": lines}, session=session
            )
            updated = await self.imports.find_one_and_update(
                {"_id": chunk.key},
                {"$addToSet": {"received": chunk.index}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            return updated or doc

        doc = await self.runtime.transaction(work)
        if doc["state"] in {"committed", "rejected"}:
            await self._tidy(chunk.key)  # finish what a crash interrupted, if anything
            return ImportStatus.DONE
        return (
            ImportStatus.COMPLETE
            if len(doc["received"]) >= doc["chunk_count"]
            else ImportStatus.OPEN
        )

    async def lines(self, key: str) -> list[ImportLine]:
        return [
            ImportLine(
                line["row"], line["invite"], line["client"], line.get("skip_vat_check", False)
            )
            async for chunk in self.chunks.find(_range(key)).sort("_id", 1)
            for line in chunk["lines"]
        ]

    async def commit(self, key: str, clients: list[Client], answer: list[ImportCommitted]) -> None:
        office_id = answer[0].office_id
        await self.lists.counted(office_id, 0)  # exists before any transaction writes it
        if len(clients) <= self.rows_per_transaction:
            await self._commit_at_once(key, office_id, clients, answer)
        else:
            await self._commit_in_batches(key, office_id, clients, answer)
        await self._tidy(key)

    async def _commit_at_once(
        self, key: str, office_id: str, clients: list[Client], answer: list[ImportCommitted]
    ) -> None:
        def encode() -> tuple[list[Document], list[Document]]:  # CPU: a thread, not the loop
            events = [*with_current_states([e for c in clients for e in c.pull_events()]), *answer]
            return [to_document(c) for c in clients], records_of(events)

        docs, records = await asyncio.to_thread(encode)

        async def work(session: Session) -> None:
            started = await self.imports.update_one(
                {"_id": key, "state": "receiving"},
                {"$set": {"state": "committed", "clients": len(docs)}},
                session=session,
            )
            if started.matched_count == 0:
                return  # committed by an earlier delivery
            if docs:
                await self.client_docs.insert_many(docs, session=session)
            await self.runtime.outbox.collection.insert_many(records, session=session)
            await self.lists.counted(office_id, len(docs), session=session)

        await self._refusing(work, clients)

    async def _commit_in_batches(
        self, key: str, office_id: str, clients: list[Client], answer: list[ImportCommitted]
    ) -> None:
        async def begin(session: Session) -> None:
            begun = await self.imports.update_one(
                {"_id": key, "state": "receiving"},
                {"$set": {"state": "inserting", "batches": 0}},
                session=session,
            )
            if begun.matched_count:
                await self.lists.importing(office_id, key, session=session)

        await self.runtime.transaction(begin)
        size = self.rows_per_transaction
        for batch, start in enumerate(range(0, len(clients), size)):
            part = clients[start : start + size]
            docs, held = await asyncio.to_thread(_batch_documents, key, batch, part)
            await self._refusing(self._batch(key, batch, docs, held), part)

        async def finish(session: Session) -> None:
            finished = await self.imports.update_one(
                {"_id": key, "state": "inserting"},
                {"$set": {"state": "committed", "clients": len(clients)}},
                session=session,
            )
            if finished.matched_count:
                held = _held(key, len(clients) // size + 1, answer)
                await self.held.insert_many(held, session=session)
                await self.lists.imported(office_id, key, len(clients), session=session)

        await self.runtime.transaction(finish)

    def _batch(self, key: str, batch: int, docs: list[Document], held: list[Document]) -> Any:
        async def work(session: Session) -> None:
            counted = await self.imports.update_one(
                {"_id": key, "state": "inserting", "batches": batch},
                {"$inc": {"batches": 1}},
                session=session,
            )
            if counted.matched_count == 0:
                return  # done before a crash
            await self.client_docs.insert_many(docs, session=session)
            if held:
                await self.held.insert_many(held, session=session)

        return work

    async def _tidy(self, key: str) -> None:
        """After the outcome: held outbox records into the outbox (in order, a few per
        transaction), then the chunks are no longer needed."""

        async def move(session: Session) -> int:
            held = self.held.find(_range(key), session=session).sort("_id", 1)
            docs = await held.limit(RECORDS_PER_MOVE).to_list()
            if docs:
                records = [d["record"] for d in docs]
                await self.runtime.outbox.collection.insert_many(records, session=session)
                await self.held.delete_many(
                    {"_id": {"$in": [d["_id"] for d in docs]}}, session=session
                )
            return len(docs)

        while await self.runtime.transaction(move):
            pass
        await self.chunks.delete_many(_range(key))

    async def _refusing(self, work: Any, clients: list[Client]) -> None:
        """Run ``work``; a duplicate key (a row that lost a race since the pre-check) is
        RowsRefused naming that row, and the transaction wrote nothing."""
        try:
            await self.runtime.transaction(work)
        except Exception as exc:
            if not is_duplicate_key(exc) or not clients:
                raise
            errors = (getattr(exc, "details", None) or {}).get("writeErrors") or [{}]
            client = clients[min(errors[0].get("index", 0), len(clients) - 1)]
            conflict = await self.clients.refusal(exc, client)
            raise RowsRefused({client.client_id: conflict.issues[0]}) from exc

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        office_id = answer[0].office_id
        # What an interrupted batched attempt inserted (nobody could see it) goes first.
        while ids := await self._pending_ids(key):
            await self.client_docs.delete_many({"_id": {"$in": ids}})
        await self.held.delete_many(_range(key))

        async def work(session: Session) -> None:
            ended = await self.imports.update_one(
                {"_id": key, "state": {"$in": ["receiving", "inserting"]}},
                {"$set": {"state": "rejected"}},
                session=session,
            )
            if ended.matched_count:
                await self.runtime.outbox.add(answer, session=session)
                await self.lists.imported(office_id, key, 0, session=session)

        await self.lists.counted(office_id, 0)
        await self.runtime.transaction(work)
        await self._tidy(key)

    async def _pending_ids(self, key: str) -> list[str]:
        found = self.client_docs.find({"pending_import": key}, {"_id": 1}).limit(5000)
        return [doc["_id"] async for doc in found]


def _held(key: str, batch: int, events: Sequence[Envelope[Any]]) -> list[Document]:
    """Outbox records held back until the import is committed, in order under its key."""
    return [
        {"_id": f"{key}:{batch:06d}:{n:04d}", "record": record}
        for n, record in enumerate(records_of(events))
    ]


def _batch_documents(
    key: str, batch: int, part: list[Client]
) -> tuple[list[Document], list[Document]]:
    docs = [to_document(c, pending_import=key) for c in part]
    return docs, _held(key, batch, with_current_states([e for c in part for e in c.events]))
