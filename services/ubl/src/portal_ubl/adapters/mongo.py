"""Documents and the clients' settings in MongoDB.

- ``documents``: the unique index ``office_key`` (office_id, key) makes one document of one
  input; a document and its DocumentReady are inserted in ONE transaction (the servicekit
  outbox), so either both exist or neither. The loser of an intake race gets E11000 on
  ``office_key``, its transaction aborts, and it returns the winner's document.
- ``client_settings``: one record per client (``_id`` = office:client), replaced only by a
  newer version: an upsert whose filter asks ``version < new``; when a record with the same or a
  newer version is there the filter misses, the upsert inserts the same ``_id`` and gets E11000.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.documents import DocumentReady
from portal_contracts.values import DocumentKind
from portal_servicekit.mongo import Session, duplicate_index
from portal_servicekit.runtime import Runtime
from portal_ubl.adapters.gridfs_store import GridFsBlobStore
from portal_ubl.domain.document import (
    Blob,
    ClientSettings,
    Document,
    LedgerAccount,
    Status,
)
from portal_ubl.domain.errors import Problem

Doc = dict[str, Any]
KEY_INDEX = "office_key"


async def ensure_indexes(db: AsyncDatabase[Doc], bucket: str) -> None:
    """Every index the service's queries and rules need (creating an existing one is a no-op)."""
    await db["documents"].create_index([("office_id", 1), ("key", 1)], unique=True, name=KEY_INDEX)
    await GridFsBlobStore(db, bucket).ensure_indexes()


class MongoDocuments:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.collection: AsyncCollection[Doc] = runtime.db["documents"]

    async def by_key(self, office_id: str, key: str) -> Document | None:
        found = await self.collection.find_one({"office_id": office_id, "key": key})
        return _document(found) if found else None

    async def get(self, office_id: str, document_id: str) -> Document | None:
        found = await self.collection.find_one({"_id": document_id, "office_id": office_id})
        return _document(found) if found else None

    async def add(self, document: Document, events: list[DocumentReady]) -> Document:
        record = _record(document)

        async def store(session: Session) -> None:
            await self.collection.insert_one(record, session=session)
            await self.runtime.outbox.add(events, session=session)

        try:
            if events:
                await self.runtime.transaction(store)
            else:  # a failed document announces nothing: a single insert
                await self.collection.insert_one(record)
        except Exception as exc:
            if duplicate_index(exc) != KEY_INDEX:
                raise
            winner = await self.by_key(document.office_id, document.key)
            if winner is None:
                raise
            return winner
        return document


class MongoClients:
    def __init__(self, runtime: Runtime) -> None:
        self.collection: AsyncCollection[Doc] = runtime.db["client_settings"]

    async def get(self, office_id: str, client_id: str) -> ClientSettings | None:
        found = await self.collection.find_one({"_id": f"{office_id}:{client_id}"})
        if found is None:
            return None
        return ClientSettings(
            office_id=found["office_id"],
            client_id=found["client_id"],
            version=found["version"],
            accounting_software=found.get("accounting_software"),
            sales_ledger_accounts=tuple(
                LedgerAccount(a["code"], a.get("label", ""), a.get("default", False))
                for a in found.get("sales_ledger_accounts", [])
            ),
            group_id=found.get("group_id"),
            archived=found.get("archived", False),
        )

    async def save(self, settings: ClientSettings) -> bool:
        record = {
            "office_id": settings.office_id,
            "client_id": settings.client_id,
            "version": settings.version,
            "group_id": settings.group_id,
            "archived": settings.archived,
            "accounting_software": settings.accounting_software,
            "sales_ledger_accounts": [
                {"code": a.code, "label": a.label, "default": a.default}
                for a in settings.sales_ledger_accounts
            ],
        }
        key = f"{settings.office_id}:{settings.client_id}"
        try:
            await self.collection.update_one(
                {"_id": key, "version": {"$lt": settings.version}}, {"$set": record}, upsert=True
            )
        except Exception as exc:
            if duplicate_index(exc) == "_id_":
                return False  # the same or a newer version is stored
            raise
        return True


def _blob(value: Doc | None) -> Blob | None:
    return Blob(**value) if value else None


def _blob_record(blob: Blob | None) -> Doc | None:
    if blob is None:
        return None
    return {
        "blob_id": blob.blob_id,
        "sha256": blob.sha256,
        "size": blob.size,
        "filename": blob.filename,
        "media_type": blob.media_type,
    }


def _record(d: Document) -> Doc:
    return {
        "_id": d.document_id,
        "office_id": d.office_id,
        "client_id": d.client_id,
        "kind": d.kind.value,
        "key": d.key,
        "profile": d.profile,
        "status": d.status.value,
        "created_at": d.created_at,
        "accounting_software": d.accounting_software,
        "needs_data_entry": d.needs_data_entry,
        "pdf_beside": d.pdf_beside,
        "ubl": _blob_record(d.ubl),
        "pdf": _blob_record(d.pdf),
        "metadata": _blob_record(d.metadata),
        "errors": [{"field": p.field, "rule": p.rule, "message": p.message} for p in d.errors],
    }


def _document(r: Doc) -> Document:
    return Document(
        document_id=r["_id"],
        office_id=r["office_id"],
        client_id=r["client_id"],
        kind=DocumentKind(r["kind"]),
        key=r["key"],
        profile=r["profile"],
        status=Status(r["status"]),
        created_at=r["created_at"],
        accounting_software=r.get("accounting_software"),
        needs_data_entry=r.get("needs_data_entry", False),
        pdf_beside=r.get("pdf_beside", False),
        ubl=_blob(r.get("ubl")),
        pdf=_blob(r.get("pdf")),
        metadata=_blob(r.get("metadata")),
        errors=[Problem(**e) for e in r.get("errors", [])],
    )
