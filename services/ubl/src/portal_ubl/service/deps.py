"""What handlers may use: ports only (``bootstrap`` wires adapters, tests wire fakes)."""

from __future__ import annotations

from dataclasses import dataclass

from portal_ubl.ports import BlobStore, ClientDirectory, Converter, DocumentRepository


@dataclass
class Deps:
    blobs: BlobStore
    documents: DocumentRepository
    clients: ClientDirectory
    convert: Converter
