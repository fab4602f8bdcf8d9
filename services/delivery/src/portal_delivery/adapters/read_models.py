"""Read models of other services' data, and documents waiting for them, in MongoDB.

Client routes: one document per client, ``_id`` = office:client.

Keeping the newest snapshot is one conditional upsert: it matches only a stored route of an
OLDER version (and then replaces it), or inserts when there is none; when a route of the same or
a newer version exists, the upsert's insert hits the ``_id`` index (E11000) and nothing changes.
So two snapshots racing (a replay beside a live event) cannot let the older one win, which a
read-then-write could.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.clients import CreditCardStatements, Integration, Timing
from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.domain.delivery import FileRef
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument
from portal_servicekit.mongo import Document, is_duplicate_key


def _key(office_id: str, client_id: str) -> str:
    return f"{office_id}:{client_id}"


class MongoClientRoutes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["client_routes"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("client_id", 1)], unique=True)

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        doc = await self.collection.find_one({"_id": _key(office_id, client_id)})
        if doc is None:
            return None
        return ClientRoute(
            doc["office_id"],
            doc["client_id"],
            doc["version"],
            Integration.model_validate(doc["integration"]),
            group_id=doc.get("group_id", "everyone"),
            vat_number=doc.get("vat_number", ""),
            company_name=doc.get("company_name", ""),
            internal_reference=doc.get("internal_reference", ""),
        )

    async def keep_newest(self, route: ClientRoute) -> bool:
        try:
            await self.collection.update_one(
                {"_id": _key(route.office_id, route.client_id), "version": {"$lt": route.version}},
                {
                    "$set": {
                        "office_id": route.office_id,
                        "client_id": route.client_id,
                        "version": route.version,
                        "integration": route.integration.model_dump(mode="json"),
                        "group_id": route.group_id,
                        "vat_number": route.vat_number,
                        "company_name": route.company_name,
                        "internal_reference": route.internal_reference,
                    }
                },
                upsert=True,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False  # the same or a newer version is stored
            raise
        return True

    async def using(self, office_id: str, method: TransferMethod, connection: str | None) -> int:
        # An admin's rare question: the office's routes, read by the (office_id, …) index.
        query: Document = {"office_id": office_id, "integration.target.kind": method.value}
        if connection is not None:
            query["integration.target.connection"] = connection
        return await self.collection.count_documents(query)


class MongoOfficeDefaults:
    """The office's general settings from OfficeSettingsChanged, newest version kept (the same
    conditional upsert as the routes)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["office_defaults"]

    async def get(self, office_id: str) -> OfficeDefaults:
        doc = await self.collection.find_one({"_id": office_id})
        if doc is None:
            return OfficeDefaults(office_id)
        return OfficeDefaults(
            office_id,
            doc["version"],
            Timing.model_validate(doc["timing"]),
            CreditCardStatements(doc["credit_card_statements"]),
            frozenset(TransferMethod(m) for m in doc["enabled_methods"]),
        )

    async def keep_newest(self, defaults: OfficeDefaults) -> bool:
        try:
            await self.collection.update_one(
                {"_id": defaults.office_id, "version": {"$lt": defaults.version}},
                {
                    "$set": {
                        "version": defaults.version,
                        "timing": defaults.timing.model_dump(mode="json"),
                        "credit_card_statements": defaults.credit_card_statements.value,
                        "enabled_methods": sorted(m.value for m in defaults.enabled_methods),
                    }
                },
                upsert=True,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True


class MongoWaitingDocuments:
    """Documents whose client's settings had not arrived: ``waiting_documents``, by document id
    (a replayed document parks once), indexed by client."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["waiting_documents"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("office_id", 1), ("client_id", 1)])

    async def park(self, document: ReadyDocument) -> None:
        await self.collection.update_one(
            {"_id": document.document_id},
            {
                "$setOnInsert": {
                    "office_id": document.office_id,
                    "client_id": document.client_id,
                    "document": _ready_document(document),
                }
            },
            upsert=True,
        )

    async def take(self, office_id: str, client_id: str) -> list[ReadyDocument]:
        taken: list[ReadyDocument] = []
        async for doc in self.collection.find({"office_id": office_id, "client_id": client_id}):
            taken.append(_from_ready_document(doc["document"]))
        return taken

    async def done(self, document_id: str) -> None:
        await self.collection.delete_one({"_id": document_id})


def _ready_document(d: ReadyDocument) -> Document:
    return {
        "document_id": d.document_id,
        "office_id": d.office_id,
        "client_id": d.client_id,
        "kind": d.kind.value,
        "ready_at": d.ready_at,
        "needs_data_entry": d.needs_data_entry,
        "ubl": vars(d.ubl) if d.ubl else None,
        "pdf": vars(d.pdf) if d.pdf else None,
        "pdf_beside": d.pdf_beside,
        "correlation_id": d.correlation_id,
    }


def _from_ready_document(doc: Document) -> ReadyDocument:
    return ReadyDocument(
        document_id=doc["document_id"],
        office_id=doc["office_id"],
        client_id=doc["client_id"],
        kind=DocumentKind(doc["kind"]),
        ready_at=doc["ready_at"],
        needs_data_entry=doc["needs_data_entry"],
        ubl=FileRef(**doc["ubl"]) if doc.get("ubl") else None,
        pdf=FileRef(**doc["pdf"]) if doc.get("pdf") else None,
        pdf_beside=doc["pdf_beside"],
        correlation_id=doc["correlation_id"],
    )


class MongoOfficeSenderNames:
    """``office_sender_names``: the From name of each office's e-mails from OfficeProfileChanged,
    newest version kept (the same conditional upsert as the routes: E11000 on ``_id`` means
    the same or a newer version is stored)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["office_sender_names"]

    async def of(self, office_id: str) -> str | None:
        doc = await self.collection.find_one({"_id": office_id})
        return None if doc is None else str(doc["sends_as"])

    async def keep_newest(self, office_id: str, version: int, sends_as: str) -> bool:
        try:
            await self.collection.update_one(
                {"_id": office_id, "version": {"$lt": version}},
                {"$set": {"version": version, "sends_as": sends_as}},
                upsert=True,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True
