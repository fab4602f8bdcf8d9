"""What the service layer needs from the outside world, as Protocols (fakes in tests)."""

from __future__ import annotations

from typing import Protocol

from portal_contracts.documents import DocumentReady
from portal_ubl.domain.document import Blob, ClientSettings, Converted, Document, SubmitDocument


class BlobStore(Protocol):
    async def put(self, data: bytes, *, filename: str, media_type: str) -> Blob: ...

    async def get(self, blob_id: str) -> bytes: ...


class DocumentRepository(Protocol):
    async def by_key(self, office_id: str, key: str) -> Document | None: ...

    async def get(self, office_id: str, document_id: str) -> Document | None: ...

    async def add(self, document: Document, events: list[DocumentReady]) -> Document:
        """Store the document and the events announcing it, all or nothing. When a document
        with the same idempotency key is already stored, store nothing and return that one."""
        ...


class ClientDirectory(Protocol):
    """The clients this service has heard of (ClientCreated / ClientUpdated)."""

    async def get(self, office_id: str, client_id: str) -> ClientSettings | None: ...

    async def save(self, settings: ClientSettings) -> bool:
        """Keep ``settings`` unless the same or a newer version is stored; True when kept."""
        ...


class Converter(Protocol):
    """The blocking conversion of a submitted document (parsing, checks, UBL writing)."""

    def __call__(self, cmd: SubmitDocument, client: ClientSettings | None, /) -> Converted: ...
