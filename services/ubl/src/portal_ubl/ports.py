"""What the service layer needs from the outside world, as Protocols (fakes in tests)."""

from __future__ import annotations

from typing import Protocol

from portal_contracts.documents import DocumentReady
from portal_ubl.domain.document import Blob, ClientSettings, Document


class BlobStore(Protocol):
    async def put(self, data: bytes, *, filename: str, media_type: str) -> Blob: ...

    async def get(self, blob_id: str) -> bytes: ...


class DocumentRepository(Protocol):
    async def by_key(self, office_id: str, key: str) -> Document | None: ...

    async def get(self, office_id: str, document_id: str) -> Document | None: ...

    async def add(self, document: Document, events: list[DocumentReady]) -> Document:
        """Store the document with its pending events in ONE write; on a duplicate key return
        the document already stored."""
        ...


class ClientDirectory(Protocol):
    async def get(self, office_id: str, client_id: str) -> ClientSettings | None: ...

    async def save(self, settings: ClientSettings) -> bool:
        """Keep ``settings`` unless a newer version is stored; True when it was kept."""
        ...


class EventRelay(Protocol):
    async def flush(self) -> int:
        """Publish pending events now; what fails stays pending for the next pass."""
        ...
