"""Imports in MongoDB/FerretDB: one document per import (state, file facts, confirmation) and its
rows in chunk documents of ``chunk_rows`` rows each, since a document is capped at 16 MB.

Field names may not hold dots, and column keys do ("company.vat_number"): they are stored with
":" instead (FerretDB also refuses nested arrays, so no lists of pairs). Every query filters on
``office_id``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_importer.adapters import rowpack
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import (
    Confirmation,
    ImportRecord,
    ImportStatus,
    Rejection,
    Upload,
)
from portal_importer.domain.report import Problem
from portal_importer.domain.validation import Availability, CheckedRow, RowProblem

Document = dict[str, Any]


class MongoImports:
    def __init__(self, db: AsyncDatabase[Document], *, chunk_rows: int = 1000) -> None:
        self.imports = db["imports"]
        self.chunks = db["import_rows"]
        self.announcements = db["import_publications"]
        self.clients = db["import_clients"]
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
        result = await self.imports.replace_one(
            {"_id": record.import_id, "office_id": record.office_id, "revision": record.revision},
            document,
        )
        return result.matched_count == 1

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
        await self.imports.update_one(
            {
                "_id": record.import_id,
                "office_id": record.office_id,
                "status": ImportStatus.CONFIRMED.value,
                "version": record.version,
            },
            {"$set": {"published": True, "confirmation.published": True}},
        )

    async def record_clients(
        self, record: ImportRecord, version: int, client_ids: Mapping[int, str]
    ) -> None:
        """Beside the import: 10,000 ids in its document made every read of it (and every scan
        of the imports) cost ~0.25 s more on FerretDB."""
        await self.clients.replace_one(
            {"_id": f"{record.import_id}:{version}"},
            {
                "import_id": record.import_id,
                "office_id": record.office_id,
                "version": version,
                "client_ids": rowpack.packed_json({str(k): v for k, v in client_ids.items()}),
            },
            upsert=True,
        )


def _chunk_id(import_id: str, reference: str, index: int) -> str:
    return f"{import_id}:{reference.partition(':')[0]}:{index}"


def _chunk_ids(record: ImportRecord) -> list[str]:
    count = int(record.rows_ref.partition(":")[2])
    return [_chunk_id(record.import_id, record.rows_ref, i) for i in range(count)]


# --- documents -----------------------------------------------------------------------------------


def row_to_document(row: CheckedRow) -> Document:
    return {
        "row": row.row,
        "cells": _keyed(row.cells),
        "problems": [
            {"key": p.key, "code": p.code, "params": dict(p.params)} for p in row.problems
        ],
        "invite": row.invite,
        "email": row.email,
        "vat": row.vat,
        "reference": row.reference,
        "unreadable": list(row.unreadable),
    }


def row_from_document(doc: Document) -> CheckedRow:
    return CheckedRow(
        row=doc["row"],
        cells=_unkeyed(doc["cells"]),
        problems=tuple(RowProblem(p["key"], p["code"], dict(p["params"])) for p in doc["problems"]),
        invite=doc["invite"],
        email=doc.get("email"),
        vat=doc.get("vat"),
        reference=doc.get("reference"),
        unreadable=tuple(doc.get("unreadable") or ()),
    )


def _keyed(mapping: Mapping[str, str]) -> Document:
    return {key.replace(".", ":"): value for key, value in mapping.items()}


def _unkeyed(document: Mapping[str, str]) -> dict[str, str]:
    return {key.replace(":", "."): value for key, value in document.items()}


def _problem(problem: Problem) -> Document:
    return problem.to_document()


def _problem_back(doc: Document) -> Problem:
    return Problem(doc["row"], doc["column"], doc["key"], doc["code"], dict(doc["params"]))


def to_document(record: ImportRecord) -> Document:
    confirmation = record.confirmation
    return {
        "_id": record.import_id,
        "office_id": record.office_id,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "status": record.status.value,
        "version": record.version,
        "generation": record.generation,
        "revision": record.revision,
        "headers": _keyed(record.facts.headers),
        "file_errors": [_problem(p) for p in record.facts.errors],
        "file_warnings": [_problem(p) for p in record.facts.warnings],
        # Lists that may hold thousands of values are packed: FerretDB decodes every value of a
        # document on each read, and scans of the imports read them all.
        "availability": None
        if record.availability is None
        else {
            "packed": rowpack.packed_json(
                [
                    sorted(record.availability.emails_taken),
                    sorted(record.availability.vat_numbers_taken),
                ]
            )
        },
        "rows": record.rows,
        "errors": record.errors,
        "uploads": [
            {
                "version": u.version,
                "filename": u.filename,
                "uploaded_at": u.uploaded_at,
                "rows": u.rows,
            }
            for u in record.uploads
        ],
        "rejections": rowpack.packed_json([[r.row, r.field, r.code] for r in record.rejections]),
        "confirmation": None
        if confirmation is None
        else {
            "version": confirmation.version,
            "correlation_id": confirmation.correlation_id,
            "confirmed_at": confirmation.confirmed_at,
            "published": confirmation.published,
        },
        "published": confirmation.published if confirmation else False,
        "clients_created": record.clients_created,
        "rows_ref": record.rows_ref,
    }


def from_document(doc: Document) -> ImportRecord:
    availability = doc.get("availability")
    confirmation = doc.get("confirmation")
    return ImportRecord(
        import_id=doc["_id"],
        office_id=doc["office_id"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        status=ImportStatus(doc["status"]),
        version=doc["version"],
        generation=doc["generation"],
        revision=doc["revision"],
        facts=FileFacts(
            _unkeyed(doc["headers"]),
            tuple(_problem_back(p) for p in doc["file_errors"]),
            tuple(_problem_back(p) for p in doc["file_warnings"]),
        ),
        availability=_availability(availability),
        rows=doc["rows"],
        errors=doc["errors"],
        uploads=tuple(
            Upload(u["version"], u["filename"], _aware(u["uploaded_at"]), u["rows"])
            for u in doc["uploads"]
        ),
        rejections=_rejections(doc["rejections"]),
        confirmation=None
        if confirmation is None
        else Confirmation(
            confirmation["version"],
            confirmation["correlation_id"],
            _aware(confirmation["confirmed_at"]),
            confirmation["published"],
        ),
        clients_created=doc.get("clients_created", len(doc.get("client_ids") or ())),
        rows_ref=doc.get("rows_ref") or "",
    )


def _availability(stored: Document | None) -> Availability | None:
    if stored is None:
        return None
    if "packed" in stored:
        emails, vats = rowpack.unpacked_json(stored["packed"])
    else:  # written before packing
        emails, vats = stored["emails_taken"], stored["vat_numbers_taken"]
    return Availability(frozenset(emails), frozenset(vats))


def _rejections(stored: bytes | list[Document]) -> tuple[Rejection, ...]:
    if isinstance(stored, bytes):
        return tuple(
            Rejection(row, field, code) for row, field, code in rowpack.unpacked_json(stored)
        )
    return tuple(Rejection(r["row"], r["field"], r["code"]) for r in stored)  # before packing


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
