"""Kafka subscribers of the delivery service: thin edges handing events to the handlers."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_delivery.bootstrap import Service
from portal_delivery.service.handlers import remember_client_route


def build_router(service: Service) -> KafkaRouter:
    router = KafkaRouter()
    topics, options = service.runtime.topics, subscriber_options(service.settings.consumer_group)

    @router.subscriber(topics.of(ClientCreated), **options)
    async def on_client_created(event: ClientCreated) -> None:
        await remember_client_route(event.office_id, event.payload.client, service.deps)

    @router.subscriber(topics.of(ClientUpdated), **options)
    async def on_client_updated(event: ClientUpdated) -> None:
        await remember_client_route(event.office_id, event.payload.client, service.deps)

    return router
