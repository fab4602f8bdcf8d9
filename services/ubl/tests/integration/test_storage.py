"""GridFS blobs, documents with their event, client settings: on the real MongoDB-wire server."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.gridfs_store import BlobNotFound, GridFsBlobStore
from portal_ubl.bootstrap import Service
from portal_ubl.domain.document import ClientSettings, Document, LedgerAccount, Status
from portal_ubl.domain.errors import Problem
from portal_ubl.samples import make_pdf
from portal_ubl.service.handlers import document_ready

pytestmark = pytest.mark.integration


async def test_blobs_round_trip_with_their_hash_and_are_stored_once(mongo_db: Any) -> None:
    store = GridFsBlobStore(mongo_db)
    await store.ensure_indexes()
    pdf = make_pdf(3, padding=3_000_000)  # several GridFS chunks
    blob = await store.put(pdf, filename="f.pdf", media_type="application/pdf")
    assert blob.sha256 == hashlib.sha256(pdf).hexdigest()
    assert blob.size == len(pdf)
    assert await store.get(blob.blob_id) == pdf
    again = await store.put(pdf, filename="f.pdf", media_type="application/pdf")
    assert again.blob_id == blob.blob_id
    assert await mongo_db["blobs.files"].count_documents({}) == 1
    with pytest.raises(BlobNotFound):
        await store.get("0123456789abcdef01234567")
    with pytest.raises(BlobNotFound):
        await store.get("not-an-id")


def _document(document_id: str, key: str = "k1", office: str = "office-1") -> Document:
    return Document(
        document_id=document_id,
        office_id=office,
        client_id="client-1",
        kind=DocumentKind.SALES_INVOICE,
        key=key,
        profile="peppol-bis3",
        status=Status.READY,
        created_at=datetime.now(UTC),
    )


async def test_a_document_and_its_event_are_committed_together(
    service: Service, mongo_db: Any
) -> None:
    documents = service.deps.documents
    document = _document("d1")
    event = document_ready(document)
    await documents.add(document, [event])
    assert await mongo_db["documents"].count_documents({"_id": "d1"}) == 1
    [record] = await mongo_db["outbox"].find({}).to_list()
    assert [(e["id"], e["key"]) for e in record["events"]] == [(str(event.event_id), "client-1")]
    loaded = await documents.by_key("office-1", "k1")
    assert loaded is not None
    assert loaded.document_id == "d1"
    assert await documents.get("office-2", "d1") is None


async def test_the_idempotency_key_is_unique_and_the_loser_announces_nothing(
    service: Service, mongo_db: Any
) -> None:
    documents = service.deps.documents
    first = await documents.add(_document("d1"), [document_ready(_document("d1"))])
    loser = _document("d2")  # same office and key: the race loser
    second = await documents.add(loser, [document_ready(loser)])
    assert second.document_id == first.document_id == "d1"
    assert await mongo_db["documents"].count_documents({}) == 1
    assert await service.runtime.outbox.pending() == 1  # the loser's event was rolled back
    await documents.add(_document("d3", office="office-2"), [])  # another office: its own
    assert await mongo_db["documents"].count_documents({}) == 2


async def test_failed_documents_keep_their_errors(service: Service) -> None:
    documents = service.deps.documents
    failed = _document("f1")
    failed.status = Status.FAILED
    failed.errors = [Problem("ubl:line 3", "UBL-XSD", "Element 'x': not expected")]
    await documents.add(failed, [])
    loaded = await documents.get("office-1", "f1")
    assert loaded is not None
    assert loaded.status is Status.FAILED
    assert loaded.errors == failed.errors


async def test_client_settings_keep_the_newest_version(service: Service) -> None:
    clients = service.deps.clients
    accounts = (LedgerAccount("700000", "Ventes", default=True),)
    assert await clients.save(ClientSettings("o", "c", 2, "octopus", accounts))
    assert not await clients.save(ClientSettings("o", "c", 1, "yuki"))
    assert not await clients.save(ClientSettings("o", "c", 2, "yuki"))
    assert await clients.save(ClientSettings("o", "c", 3, "winbooks", accounts))
    loaded = await clients.get("o", "c")
    assert loaded is not None
    assert (loaded.version, loaded.accounting_software) == (3, "winbooks")
    assert loaded.sales_ledger_accounts == accounts
