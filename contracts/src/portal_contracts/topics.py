"""Topic names: they live here and only here.

``Topics(prefix)`` lets tests and parallel environments isolate their topics with a prefix while
the names themselves stay in one place. Each topic also has a dead-letter twin (``<topic>.dlt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_contracts.clients import ClientActivated, ClientCreated, ClientInvited, ClientUpdated
from portal_contracts.delivery import DeliveryFailed, DocumentDelivered
from portal_contracts.documents import DocumentReady
from portal_contracts.envelope import Envelope
from portal_contracts.imports import ImportCommitted, ImportRejected, ImportValidated

EVENTS: tuple[type[Envelope[Any]], ...] = (
    ClientCreated,
    ClientUpdated,
    ClientInvited,
    ClientActivated,
    ImportValidated,
    ImportCommitted,
    ImportRejected,
    DocumentReady,
    DocumentDelivered,
    DeliveryFailed,
)

_BASE_NAMES: dict[str, str] = {
    "ClientCreated": "portal.clients.client-created.v1",
    "ClientUpdated": "portal.clients.client-updated.v1",
    "ClientInvited": "portal.invitations.client-invited.v1",
    "ClientActivated": "portal.invitations.client-activated.v1",
    "ImportValidated": "portal.importer.import-validated.v1",
    "ImportCommitted": "portal.clients.import-committed.v1",
    "ImportRejected": "portal.clients.import-rejected.v1",
    "DocumentReady": "portal.ubl.document-ready.v1",
    "DocumentDelivered": "portal.delivery.document-delivered.v1",
    "DeliveryFailed": "portal.delivery.delivery-failed.v1",
}

DEAD_LETTER_SUFFIX = ".dlt"


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    def of(self, event: type[Envelope[Any]] | str) -> str:
        name = event if isinstance(event, str) else event.EVENT_TYPE
        return f"{self.prefix}{_BASE_NAMES[name]}"

    def dead_letter(self, topic: str) -> str:
        return topic + DEAD_LETTER_SUFFIX

    def all(self) -> list[str]:
        return [self.of(name) for name in _BASE_NAMES]
