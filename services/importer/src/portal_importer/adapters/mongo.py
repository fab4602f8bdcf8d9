"""Imports in MongoDB/FerretDB (see the README for the layout and the measurements behind it).

One document per import (state, file facts, where its rows are), its rows in chunk documents of
``chunk_rows`` rows packed as blobs (``rowpack``), hints for the relay, and which row became which
client. On FerretDB only ``_id`` lookups use an index, so everything on the hot path is read by
``_id``: an import by ``{_id, office_id}`` (tenancy), its chunks by the ids its document names.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_importer.adapters import rowpack
from portal_importer.adapters.documents import (
    Document,
    from_document,
    row_from_document,
    row_to_document,
    to_document,
)
from portal_importer.adapters.leases import LeaseBusy, Leases
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.domain.validation import CheckedRow


class MongoImports:
    def __init__(self, db: AsyncDatabase[Document], *, chunk_rows: int = 1000) -> None:
        self.imports = db["imports"]
        self.chunks = db["import_rows"]
        self.announcements = db["import_publications"]
        self.answers = db["import_answers"]
        self.leases = Leases(db["import_leases"])
        self.chunk_rows = chunk_rows

    async def ensure_indexes(self) -> None:
        await self.imports.create_index([("office_id", ASCENDING), ("created_at", DESCENDING)])
        await self.imports.create_index([("status", ASCENDING), ("published", ASCENDING)])
        await self.chunks.create_index(
            [("import_id", ASCENDING), ("generation", ASCENDING), ("first_row", ASCENDING)]
        )

    # --- the import document ------------------------------------------------------------------

    async def add(self, record: ImportRecord) -> None:
        await self.imports.insert_one(to_document(record))

    async def get(self, office_id: str, import_id: str) -> ImportRecord | None:
        found = await self.imports.find_one({"_id": import_id, "office_id": office_id})
        return from_document(found) if found else None

    async def recent(self, office_id: str, limit: int) -> list[ImportRecord]:
        cursor = (
            self.imports.find({"office_id": office_id}).sort("created_at", DESCENDING).limit(limit)
        )
        return [from_document(doc) async for doc in cursor]

    async def save(self, record: ImportRecord) -> bool:
        document = to_document(record)
        document["revision"] = record.revision + 1
        key = {"_id": record.import_id, "office_id": record.office_id}
        # Compare and write under the import's lease: FerretDB's own conditional replace can
        # match twice (test_concurrent_writes).
        try:
            async with self.leases.hold(record.import_id):
                current = await self.imports.find_one(key, {"revision": 1})
                if current is None or current["revision"] != record.revision:
                    return False
                await self.imports.replace_one(key, document)
        except LeaseBusy:  # someone kept writing it for seconds: as good as changed meanwhile
            return False
        return True

    # --- rows ----------------------------------------------------------------------------------

    async def store_rows(
        self, import_id: str, office_id: str, generation: int, rows: Sequence[CheckedRow]
    ) -> str:
        """New chunk documents under a fresh reference: nothing stored is overwritten, so a
        concurrent writer or a crash leaves at worst unreferenced chunks, never mixed rows."""
        reference = f"{uuid.uuid4().hex[:12]}:{-(-len(rows) // self.chunk_rows)}"
        parts = [
            rows[start : start + self.chunk_rows] for start in range(0, len(rows), self.chunk_rows)
        ]
        documents = await asyncio.to_thread(
            lambda: [
                {
                    "_id": _chunk_id(import_id, reference, index),
                    "import_id": import_id,
                    "office_id": office_id,
                    "generation": generation,
                    **rowpack.pack(part),
                }
                for index, part in enumerate(parts)
            ]
        )
        if documents:
            await self.chunks.insert_many(documents, ordered=True)
        return reference

    async def drop_rows(self, record: ImportRecord) -> None:
        """The rows ``record.rows_ref`` points to (once no import refers to them)."""
        if record.rows_ref:
            await self.chunks.delete_many({"_id": {"$in": _chunk_ids(record)}})
        else:  # stored before references: found by scanning
            await self.chunks.delete_many(
                {"import_id": record.import_id, "generation": record.generation}
            )

    async def rows(
        self, record: ImportRecord, *, cells: bool = False, clients: bool = False
    ) -> list[CheckedRow]:
        """The current rows in row order: their outcomes (what the report and the confirmation
        need), with their cells and stored clients only when asked (most of the bytes)."""
        if not record.rows_ref:
            return await self._legacy_rows(record)
        projection = {"outcomes": 1, "client_schema": 1}
        if cells:
            projection["cells"] = 1
        if clients:
            projection["clients"] = 1
        found = await self._chunks_of(record, projection)
        return await asyncio.to_thread(
            lambda: [row for chunk in found for row in rowpack.unpack(chunk)]
        )

    async def row(self, record: ImportRecord, number: int) -> CheckedRow | None:
        """One row with its cells."""
        if not record.rows_ref:
            legacy = await self._legacy_rows(record)
            return next((r for r in legacy if r.row == number), None)
        chunk = await self._chunk_holding(record, number)
        if chunk is None:
            return None
        return next((r for r in rowpack.unpack(chunk) if r.row == number), None)

    async def put_row(self, record: ImportRecord, row: CheckedRow | None, number: int) -> bool:
        if not record.rows_ref:
            return await self._legacy_put_row(record, row, number)
        chunk = await self._chunk_holding(record, number)
        if chunk is None:
            return False
        rows = rowpack.unpack(chunk)
        position = next((i for i, r in enumerate(rows) if r.row == number), None)
        if position is None:
            return False
        if row is None:
            del rows[position]
        else:
            rows[position] = row
        # The import document's revision guards concurrent edits; the chunk follows it.
        await self.chunks.update_one({"_id": chunk["_id"]}, {"$set": rowpack.pack(rows)})
        return True

    async def _chunks_of(
        self, record: ImportRecord, projection: Mapping[str, int] | None
    ) -> list[Document]:
        # By _id only: FerretDB answers an _id $in from its index; any other filter scans
        # (and decodes) every chunk of every import.
        ids = _chunk_ids(record)
        found = {
            doc["_id"]: doc async for doc in self.chunks.find({"_id": {"$in": ids}}, projection)
        }
        if len(found) != len(ids):
            raise LookupError(
                f"import {record.import_id}: {len(ids) - len(found)} row chunk(s) missing"
            )
        return [found[i] for i in ids]

    async def _chunk_holding(self, record: ImportRecord, number: int) -> Document | None:
        bounds = await self._chunks_of(record, {"first_row": 1, "last_row": 1})
        for bound in bounds:
            if bound["first_row"] <= number <= bound["last_row"]:
                return await self.chunks.find_one({"_id": bound["_id"]})
        return None

    async def _legacy_rows(self, record: ImportRecord) -> list[CheckedRow]:
        cursor = self.chunks.find(
            {
                "import_id": record.import_id,
                "office_id": record.office_id,
                "generation": record.generation,
            }
        ).sort("first_row", ASCENDING)
        found: list[CheckedRow] = []
        async for chunk in cursor:
            found.extend(row_from_document(row) for row in chunk["rows"])
        return found

    async def _legacy_put_row(
        self, record: ImportRecord, row: CheckedRow | None, number: int
    ) -> bool:
        chunk = await self.chunks.find_one(
            {
                "import_id": record.import_id,
                "office_id": record.office_id,
                "generation": record.generation,
                "first_row": {"$lte": number},
                "last_row": {"$gte": number},
            }
        )
        if chunk is None:
            return False
        rows = chunk["rows"]
        position = next((i for i, r in enumerate(rows) if r["row"] == number), None)
        if position is None:
            return False
        if row is None:
            del rows[position]
        else:
            rows[position] = row_to_document(row)
        await self.chunks.update_one({"_id": chunk["_id"]}, {"$set": {"rows": rows}})
        return True

    # --- publication ---------------------------------------------------------------------------

    async def unpublished(self, limit: int) -> list[ImportRecord]:
        """Confirmed imports not yet published, found by scanning: the relay's safety net."""
        cursor = self.imports.find(
            {"status": ImportStatus.CONFIRMED.value, "published": False}
        ).limit(limit)
        return [from_document(doc) async for doc in cursor]

    async def announce(self, record: ImportRecord) -> None:
        """A hint in a collection that stays tiny, so the relay can poll it often: this import
        was just confirmed. Written after the confirmation; a lost hint only delays publication
        until the relay's scan of the imports."""
        try:
            await self.announcements.insert_one(
                {"_id": record.import_id, "office_id": record.office_id}
            )
        except DuplicateKeyError:
            pass

    async def announced(self, limit: int) -> list[tuple[str, str]]:
        """(office id, import id) of the imports announced."""
        return [
            (doc["office_id"], doc["_id"]) async for doc in self.announcements.find({}).limit(limit)
        ]

    async def forget_announcement(self, import_id: str) -> None:
        await self.announcements.delete_one({"_id": import_id})

    async def mark_published(self, record: ImportRecord) -> None:
        key = {"_id": record.import_id, "office_id": record.office_id}
        async with self.leases.hold(record.import_id):
            current = await self.imports.find_one(key, {"status": 1, "version": 1})
            if (
                current is not None
                and current["status"] == ImportStatus.CONFIRMED.value
                and current["version"] == record.version
            ):
                await self.imports.update_one(
                    key, {"$set": {"published": True, "confirmation.published": True}}
                )

    async def record_answer(
        self,
        record: ImportRecord,
        version: int,
        kind: str,
        part: int,
        parts: int,
        content: list[list[Any]],
    ) -> list[list[list[Any]]] | None:
        """Beside the import (10,000 client ids in its document made every read of it, and
        every scan of the imports, ~0.25 s slower), one document per part, found by ``_id``."""
        prefix = f"{record.import_id}:{version}:{kind}"
        await self.answers.replace_one(
            {"_id": f"{prefix}:{part}"},
            {
                "import_id": record.import_id,
                "office_id": record.office_id,
                "version": version,
                "kind": kind,
                "parts": parts,
                "content": rowpack.packed_json(content),
            },
            upsert=True,
        )
        ids = [f"{prefix}:{n}" for n in range(parts)]
        found = {doc["_id"]: doc async for doc in self.answers.find({"_id": {"$in": ids}})}
        if len(found) < parts:
            return None
        return [rowpack.unpacked_json(found[i]["content"]) for i in ids]


def _chunk_id(import_id: str, reference: str, index: int) -> str:
    return f"{import_id}:{reference.partition(':')[0]}:{index}"


def _chunk_ids(record: ImportRecord) -> list[str]:
    count = int(record.rows_ref.partition(":")[2])
    return [_chunk_id(record.import_id, record.rows_ref, i) for i in range(count)]
