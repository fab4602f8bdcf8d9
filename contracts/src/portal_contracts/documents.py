"""Document events: DocumentReady announces a UBL (and PDF) stored and ready to deliver.

Files never ride on Kafka (claim check): the event carries GridFS references and sha256 hashes.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import AccountingSoftware, DocumentKind


class BlobRef(Payload):
    blob_id: str  # GridFS file id
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    filename: str
    media_type: str


class DocumentReadyPayload(Payload):
    document_id: str
    client_id: str
    kind: DocumentKind
    profile: str  # the UBL profile used, e.g. "peppol-bis3", "ubl-be"
    accounting_software: AccountingSoftware | None = None
    ubl: BlobRef | None = None  # None for a PDF-only document
    pdf: BlobRef | None = None
    needs_data_entry: bool = False
    metadata: BlobRef | None = None  # metadata.json of a PDF-only document
    pdf_beside: bool = False  # the profile wants the PDF delivered as its own file too


class DocumentReady(Envelope[DocumentReadyPayload]):
    EVENT_TYPE: ClassVar[str] = "DocumentReady"
    event_type: Literal["DocumentReady"] = "DocumentReady"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client_id
