"""Kafka subscribers of the clients service: thin edges handing events to the handlers.

Each subscriber commits its offset only after the handler returned (NACK_ON_ERROR, bounded
retries, then the dead-letter topic), and every handler is idempotent, so redelivery is harmless.
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaRouter

from portal_clients.bootstrap import Service
from portal_clients.service.handlers import HANDLERS
from portal_contracts.broker import subscriber_options
from portal_contracts.clients import (
    ClientActivated,
    ClientCreated,
    ClientInvitationFailed,
    ClientInvitationRevoked,
    ClientInvited,
    ClientState,
    ClientUpdated,
)
from portal_contracts.delivery import ConnectionsChanged
from portal_contracts.envelope import Envelope
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportCommitted,
    ImportRejected,
    ImportValidated,
)
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged

# What the outbox relay publishes, keyed by aggregate id (declared for the AsyncAPI; the relay
# publishes the outbox's stored bytes, not through these objects).
PUBLISHED: tuple[tuple[type[Envelope[Any]], str], ...] = (
    (ClientCreated, "A client was added (by hand or by an import), with its whole snapshot."),
    (ClientUpdated, "A client changed: its new snapshot and the fields that changed."),
    (
        ClientState,
        "Compacted, keyed by client id: every client's newest snapshot and version, written "
        "with each ClientCreated/ClientUpdated and by republish_states. Read it from the "
        "beginning to rebuild a read model.",
    ),
    (OfficeSettingsChanged, "The office's general settings after a save, with their version."),
    (
        OfficeProfileChanged,
        "Compacted, keyed by office id: the office's profile (name, languages, sender name) "
        "after a save, with its version.",
    ),
    (ImportCommitted, "An import's clients were created (in parts of 5,000 rows)."),
    (ImportRejected, "An import created nothing: the rows that lost."),
)


def build_router(service: Service) -> KafkaRouter:
    router = KafkaRouter()
    topics, deps = service.runtime.topics, service.deps
    options = subscriber_options(service.settings.consumer_group)

    # An import's chunks (up to 512 KB each) are fetched 16 at a time: with the default 1 MB a
    # partition, every second chunk waited for another fetch round (~0.5 s each, measured).
    chunks = {**options, "max_partition_fetch_bytes": 16 * MAX_CHUNK_BYTES}

    @router.subscriber(topics.of(ImportValidated), **chunks)
    async def on_import_validated(event: ImportValidated) -> None:
        await HANDLERS["ImportValidated"](event, deps)

    @router.subscriber(topics.of(ClientInvited), **options)
    async def on_client_invited(event: ClientInvited) -> None:
        await HANDLERS["ClientInvited"](event, deps)

    @router.subscriber(topics.of(ClientActivated), **options)
    async def on_client_activated(event: ClientActivated) -> None:
        await HANDLERS["ClientActivated"](event, deps)

    @router.subscriber(topics.of(ClientInvitationRevoked), **options)
    async def on_invitation_revoked(event: ClientInvitationRevoked) -> None:
        await HANDLERS["ClientInvitationRevoked"](event, deps)

    @router.subscriber(topics.of(ClientInvitationFailed), **options)
    async def on_invitation_failed(event: ClientInvitationFailed) -> None:
        await HANDLERS["ClientInvitationFailed"](event, deps)

    @router.subscriber(topics.of(ConnectionsChanged), **options)
    async def on_connections_changed(event: ConnectionsChanged) -> None:
        await HANDLERS["ConnectionsChanged"](event, deps)

    for event_type, description in PUBLISHED:
        router.publisher(
            topics.of(event_type),
            title=f"{topics.of(event_type)}:publish",
            description=description,
            schema=event_type,
        )
    return router
