"""Kafka subscribers of the clients service: thin edges handing events to the handlers.

Each subscriber commits its offset only after the handler returned (NACK_ON_ERROR, bounded
retries, then the dead-letter topic), and every handler is idempotent, so redelivery is harmless.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_clients.service import events
from portal_clients.service.deps import Deps
from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientActivated, ClientInvited
from portal_contracts.imports import ImportValidated
from portal_contracts.topics import Topics


def register(broker: KafkaBroker, topics: Topics, deps: Deps, group_id: str) -> None:
    options = subscriber_options(group_id)

    @broker.subscriber(topics.of(ImportValidated), **options)
    async def on_import_validated(event: ImportValidated) -> None:
        await events.import_validated(event, deps)

    @broker.subscriber(topics.of(ClientInvited), **options)
    async def on_client_invited(event: ClientInvited) -> None:
        await events.client_invited(event, deps)

    @broker.subscriber(topics.of(ClientActivated), **options)
    async def on_client_activated(event: ClientActivated) -> None:
        await events.client_activated(event, deps)
