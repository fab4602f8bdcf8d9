"""Every fake of the UBL service (in-memory ports, no mocks), the service wired with them, and
the Factur-X sample only tests need."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any

from portal_contracts.documents import DocumentReady
from portal_servicekit.settings import PlatformSettings
from portal_ubl.adapters.conversion import convert
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.config import Settings
from portal_ubl.domain.document import Blob, ClientSettings, Document
from portal_ubl.samples import make_pdf
from portal_ubl.service.deps import Deps

JWT_KEY = "ubl-tests-signing-key-0123456789abcdef"


def facturx_pdf(cii_xml: bytes, pages: int = 1) -> bytes:
    """A Factur-X PDF: our PDF with ``cii_xml`` embedded by the factur-x library."""
    import facturx

    result: bytes = facturx.generate_from_binary(make_pdf(pages), cii_xml, check_xsd=True)
    return result


class FakeBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.puts = 0

    async def put(self, data: bytes, *, filename: str, media_type: str) -> Blob:
        self.puts += 1
        sha = hashlib.sha256(data).hexdigest()
        blob_id = f"{sha[:12]}-{len(self.blobs)}"
        self.blobs[blob_id] = data
        return Blob(blob_id, sha, len(data), filename, media_type)

    async def get(self, blob_id: str) -> bytes:
        return self.blobs[blob_id]


class FakeDocuments:
    """Documents and the events committed with them (``outbox``), as the real one: all or none."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.outbox: list[DocumentReady] = []

    async def by_key(self, office_id: str, key: str) -> Document | None:
        return next(
            (d for d in self.documents.values() if d.office_id == office_id and d.key == key), None
        )

    async def get(self, office_id: str, document_id: str) -> Document | None:
        d = self.documents.get(document_id)
        return d if d is not None and d.office_id == office_id else None

    async def add(self, document: Document, events: list[DocumentReady]) -> Document:
        existing = await self.by_key(document.office_id, document.key)
        if existing is not None:
            return existing
        self.documents[document.document_id] = document
        self.outbox.extend(events)
        return document


class FakeClients:
    def __init__(self, known: Iterable[tuple[str, str]] = ()) -> None:
        """``known``: (office, client) pairs already heard of, version 1, group "everyone"."""
        self.clients: dict[tuple[str, str], ClientSettings] = {
            (office, client): ClientSettings(office, client, 1, group_id="everyone")
            for office, client in known
        }

    async def get(self, office_id: str, client_id: str) -> ClientSettings | None:
        return self.clients.get((office_id, client_id))

    async def save(self, settings: ClientSettings) -> bool:
        key = (settings.office_id, settings.client_id)
        current = self.clients.get(key)
        if current is not None and current.version >= settings.version:
            return False
        self.clients[key] = settings
        return True


def settings(
    kafka: str = "127.0.0.1:1",
    mongodb: str = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200",
    prefix: str = "",
    **values: Any,
) -> Settings:
    """Settings naming servers nobody contacts (for fakes) unless real ones are given."""
    platform = PlatformSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "MONGODB_URI": mongodb,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": prefix,
        }
    )
    return Settings(platform=platform, **values)


def fake_deps(**overrides: Any) -> Deps:
    """What handlers use, every port faked; the real conversion unless ``convert`` is given."""
    deps = Deps(
        blobs=FakeBlobStore(), documents=FakeDocuments(), clients=FakeClients(), convert=convert
    )
    return dataclasses.replace(deps, **overrides)


def fake_service(**overrides: Any) -> Service:
    """The service on fakes (its Runtime is built but never connects)."""
    service = bootstrap(settings())
    service.deps = fake_deps(**overrides)
    return service
