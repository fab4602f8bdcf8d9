"""Kafka subscribers of the delivery service: thin edges handing events to the handlers."""

from __future__ import annotations

from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_delivery.bootstrap import Delivery
from portal_delivery.service.handlers import remember_client_route


def register(app: Delivery) -> None:
    options = subscriber_options(app.settings.consumer_group)

    @app.broker.subscriber(app.topics.of(ClientCreated), **options)
    async def on_client_created(event: ClientCreated) -> None:
        await remember_client_route(event.office_id, event.payload.client, app.routes)

    @app.broker.subscriber(app.topics.of(ClientUpdated), **options)
    async def on_client_updated(event: ClientUpdated) -> None:
        await remember_client_route(event.office_id, event.payload.client, app.routes)
