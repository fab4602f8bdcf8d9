"""Handlers: submit a document (idempotent; stored with its DocumentReady all or nothing),
record a client's settings.

``HANDLERS`` lists them by command, as in cosmicpython; entrypoints call them with the
:class:`~portal_ubl.service.deps.Deps` that ``bootstrap`` wires (real adapters) or tests wire
(fakes).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from portal_contracts.documents import BlobRef, DocumentReady, DocumentReadyPayload
from portal_contracts.values import AccountingSoftware
from portal_ubl.domain.document import Blob, ClientSettings, Document, Status, SubmitDocument
from portal_ubl.domain.errors import ArchivedClient, UnknownClient
from portal_ubl.service.deps import Deps

logger = logging.getLogger(__name__)


async def submit_document(cmd: SubmitDocument, deps: Deps) -> Document:
    client = await deps.clients.get(cmd.office_id, cmd.client_id)
    if client is None or not cmd.may_submit_for(client):
        raise UnknownClient(cmd.client_id)  # checked first: a resubmission reveals nothing either
    if client.archived:
        raise ArchivedClient(cmd.client_id)
    key = cmd.idempotency_key()
    existing = await deps.documents.by_key(cmd.office_id, key)
    if existing is not None:
        return existing
    converted = await asyncio.to_thread(deps.convert, cmd, client)  # lxml + schema: off the loop
    document = Document(
        document_id=uuid.uuid4().hex,
        office_id=cmd.office_id,
        client_id=cmd.client_id,
        kind=cmd.kind,
        key=key,
        profile=converted.profile,
        status=Status.READY,
        created_at=datetime.now(UTC),
        needs_data_entry=converted.needs_data_entry,
        accounting_software=client.accounting_software,
        pdf_beside=converted.pdf_beside,
    )
    if converted.xsd_problems:  # our defect, never a silently broken file: keep the errors
        document.status, document.errors = Status.FAILED, converted.xsd_problems
        logger.error(
            "UBL for %s fails the schema: %s", document.document_id, converted.xsd_problems[:3]
        )
        return await deps.documents.add(document, [])
    if converted.pdf is not None:
        document.pdf = await deps.blobs.put(
            converted.pdf,
            filename=converted.pdf_filename or "document.pdf",
            media_type="application/pdf",
        )
    if converted.ubl is not None:
        document.ubl = await deps.blobs.put(
            converted.ubl,
            filename=converted.ubl_filename or "document.xml",
            media_type="application/xml",
        )
    if converted.metadata is not None:
        document.metadata = await deps.blobs.put(
            converted.metadata, filename="metadata.json", media_type="application/json"
        )
    return await deps.documents.add(document, [document_ready(document)])


def document_ready(document: Document) -> DocumentReady:
    software = document.accounting_software
    return DocumentReady.new(
        office_id=document.office_id,
        payload=DocumentReadyPayload(
            document_id=document.document_id,
            client_id=document.client_id,
            kind=document.kind,
            profile=document.profile,
            accounting_software=AccountingSoftware(software)
            if software in set(AccountingSoftware)
            else None,
            ubl=_ref(document.ubl),
            pdf=_ref(document.pdf),
            needs_data_entry=document.needs_data_entry,
            metadata=_ref(document.metadata),
            pdf_beside=document.pdf_beside,
        ),
    )


def _ref(blob: Blob | None) -> BlobRef | None:
    if blob is None:
        return None
    return BlobRef(
        blob_id=blob.blob_id,
        sha256=blob.sha256,
        size=blob.size,
        filename=blob.filename,
        media_type=blob.media_type,
    )


async def record_client_settings(settings: ClientSettings, deps: Deps) -> bool:
    """From ClientCreated / ClientUpdated; an older version arriving late changes nothing."""
    return await deps.clients.save(settings)


HANDLERS = {
    SubmitDocument: submit_document,
    ClientSettings: record_client_settings,
}
