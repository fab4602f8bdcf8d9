"""Documents and client settings in MongoDB (FerretDB): one document write per state change.

A document is written together with its pending DocumentReady in its ``outbox`` array (the
servicekit format), so a crash after the write loses nothing: :mod:`.outbox` publishes it later.
The idempotency key has a unique index; losing the race returns the winner's document.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.documents import DocumentReady
from portal_contracts.values import DocumentKind
from portal_servicekit.mongo import is_duplicate_key
from portal_servicekit.outbox import ensure_outbox_index, with_outbox
from portal_ubl.domain.document import (
    Blob,
    ClientSettings,
    Document,
    LedgerAccount,
    Status,
)
from portal_ubl.domain.errors import Problem

Doc = dict[str, Any]


class MongoDocuments:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db["documents"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("key", 1)], unique=True)
        await ensure_outbox_index(self.collection)

    async def by_key(self, office_id: str, key: str) -> Document | None:
        found = await self.collection.find_one({"office_id": office_id, "key": key})
        return _document(found) if found else None

    async def get(self, office_id: str, document_id: str) -> Document | None:
        found = await self.collection.find_one({"_id": document_id, "office_id": office_id})
        return _document(found) if found else None

    async def add(self, document: Document, events: list[DocumentReady]) -> Document:
        record = with_outbox(_record(document), list(events))
        try:
            await self.collection.insert_one(record)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
            winner = await self.by_key(document.office_id, document.key)
            if winner is None:
                raise
            return winner
        return document


class MongoClients:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db["client_settings"]

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
        )

    async def save(self, settings: ClientSettings) -> bool:
        record = {
            "office_id": settings.office_id,
            "client_id": settings.client_id,
            "version": settings.version,
            "group_id": settings.group_id,
            "accounting_software": settings.accounting_software,
            "sales_ledger_accounts": [
                {"code": a.code, "label": a.label, "default": a.default}
                for a in settings.sales_ledger_accounts
            ],
        }
        key = f"{settings.office_id}:{settings.client_id}"
        result = await self.collection.update_one(
            {"_id": key, "version": {"$lt": settings.version}}, {"$set": record}
        )
        if result.matched_count:
            return True
        try:
            await self.collection.insert_one({"_id": key, **record})
        except Exception as exc:
            if is_duplicate_key(exc):
                return False  # a newer (or the same) version is already there
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
