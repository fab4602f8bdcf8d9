"""Topic names: they live here and only here.

``Topics(prefix)`` lets tests and parallel environments isolate their topics with a prefix while
the names themselves stay in one place. Each topic also has a dead-letter twin (``<topic>.dlt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_contracts.clients import (
    ClientActivated,
    ClientCreated,
    ClientInvitationFailed,
    ClientInvitationRevoked,
    ClientInvited,
    ClientState,
    ClientUpdated,
)
from portal_contracts.delivery import (
    ConnectionsChanged,
    DeliveryFailed,
    DeliveryRequested,
    DocumentDelivered,
)
from portal_contracts.documents import DocumentReady
from portal_contracts.envelope import Envelope
from portal_contracts.imports import ImportCommitted, ImportRejected, ImportValidated
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged
from portal_contracts.values import TransferMethod

EVENTS: tuple[type[Envelope[Any]], ...] = (
    ClientCreated,
    ClientUpdated,
    ClientState,
    ClientInvited,
    ClientActivated,
    ClientInvitationRevoked,
    ClientInvitationFailed,
    ImportValidated,
    ImportCommitted,
    ImportRejected,
    DocumentReady,
    DocumentDelivered,
    DeliveryFailed,
    DeliveryRequested,
    ConnectionsChanged,
    OfficeSettingsChanged,
    OfficeProfileChanged,
)

_BASE_NAMES: dict[str, str] = {
    "ClientCreated": "portal.clients.client-created.v1",
    "ClientUpdated": "portal.clients.client-updated.v1",
    "ClientState": "portal.clients.client-state.v1",
    "ClientInvited": "portal.invitations.client-invited.v1",
    "ClientActivated": "portal.invitations.client-activated.v1",
    "ClientInvitationRevoked": "portal.invitations.invitation-revoked.v1",
    "ClientInvitationFailed": "portal.invitations.invitation-failed.v1",
    "ImportValidated": "portal.importer.import-validated.v1",
    "ImportCommitted": "portal.clients.import-committed.v1",
    "ImportRejected": "portal.clients.import-rejected.v1",
    "DocumentReady": "portal.ubl.document-ready.v1",
    "DocumentDelivered": "portal.delivery.document-delivered.v1",
    "DeliveryFailed": "portal.delivery.delivery-failed.v1",
    "ConnectionsChanged": "portal.delivery.connections-changed.v1",
    "OfficeSettingsChanged": "portal.clients.office-settings-changed.v1",
    "OfficeProfileChanged": "portal.clients.office-profile-changed.v1",
}
# DeliveryRequested has one topic per channel (one consumer group and Deployment each, so a slow
# or dead channel only grows its own lag): see Topics.delivery_request.
_REQUEST_BASE = "portal.delivery.request.{channel}.v1"

# Compacted (cleanup.policy=compact): the newest record of each key is kept for ever, the older
# ones are removed, so reading the topic from its beginning gives every aggregate's current state
# (ClientState by client id, OfficeProfileChanged by office id). The others are event streams,
# deleted after their retention (deploy/k8s).
COMPACTED: frozenset[str] = frozenset({"ClientState", "OfficeProfileChanged"})

DEAD_LETTER_SUFFIX = ".dlt"


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    def of(self, event: type[Envelope[Any]] | str) -> str:
        name = event if isinstance(event, str) else event.EVENT_TYPE
        if name == DeliveryRequested.EVENT_TYPE:
            raise ValueError("DeliveryRequested goes to a channel's topic: delivery_request()")
        return f"{self.prefix}{_BASE_NAMES[name]}"

    def delivery_request(self, channel: TransferMethod | str) -> str:
        return f"{self.prefix}{_REQUEST_BASE.format(channel=TransferMethod(channel).value)}"

    @staticmethod
    def route_of(event: Envelope[Any]) -> str:
        """Where ``event`` goes, as a prefix-free route an outbox can store: its event type, or
        ``DeliveryRequested/<channel>`` for a delivery request."""
        if isinstance(event, DeliveryRequested):
            return f"{event.event_type}/{event.payload.channel.value}"
        return event.event_type

    def resolve(self, route: str) -> str:
        """The topic of a route from :meth:`route_of`."""
        event_type, _, channel = route.partition("/")
        return self.delivery_request(channel) if channel else self.of(event_type)

    def dead_letter(self, topic: str) -> str:
        return topic + DEAD_LETTER_SUFFIX

    def compacted(self) -> list[str]:
        """The topics that keep each key's newest record (see :data:`COMPACTED`)."""
        return [self.of(name) for name in sorted(COMPACTED)]

    def all(self) -> list[str]:
        requests = [
            self.delivery_request(c) for c in TransferMethod if c is not TransferMethod.MANUAL
        ]
        return [self.of(name) for name in _BASE_NAMES] + requests
