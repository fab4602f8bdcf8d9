"""Kafka subscribers of the delivery service: thin edges handing events to the handlers.

- The planner (group ``<group>.planner``): DocumentReady (keyed by client), the clients' and the
  office's settings.
- A channel's worker (group ``<group>.<channel>``): its own request topic, in batches whose
  requests run concurrently (bounded); the batch's offsets are committed once every request of
  it is recorded in the ledger, so a crash redelivers them and the ledger's compare-and-set drops
  what was already done.
"""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaRouter

from portal_contracts.broker import is_transient, subscriber_options
from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_contracts.delivery import DeliveryRequested
from portal_contracts.documents import DocumentReady
from portal_contracts.office import OfficeSettingsChanged
from portal_contracts.values import TransferMethod
from portal_delivery.bootstrap import Service
from portal_delivery.ports import Channel
from portal_delivery.service.planning import (
    plan_document,
    remember_client_route,
    remember_office_defaults,
)
from portal_delivery.service.sending import deliver_requested

logger = logging.getLogger(__name__)


def build_router(service: Service) -> KafkaRouter:
    """The planner's consumers."""
    router = KafkaRouter()
    topics, deps = service.runtime.topics, service.deps
    options = subscriber_options(f"{service.settings.consumer_group}.planner")

    @router.subscriber(topics.of(DocumentReady), **options)
    async def on_document_ready(event: DocumentReady) -> None:
        await plan_document(event, deps)

    @router.subscriber(topics.of(ClientCreated), **options)
    async def on_client_created(event: ClientCreated) -> None:
        await remember_client_route(event.office_id, event.payload.client, deps)

    @router.subscriber(topics.of(ClientUpdated), **options)
    async def on_client_updated(event: ClientUpdated) -> None:
        await remember_client_route(event.office_id, event.payload.client, deps)

    @router.subscriber(topics.of(OfficeSettingsChanged), **options)
    async def on_office_settings(event: OfficeSettingsChanged) -> None:
        await remember_office_defaults(event, deps)

    return router


def build_channel_router(service: Service, method: TransferMethod, channel: Channel) -> KafkaRouter:
    router = KafkaRouter()
    in_flight = service.settings.requests_in_flight
    options = subscriber_options(
        f"{service.settings.consumer_group}.{method.value}", batch=True, max_records=in_flight
    )
    slots = asyncio.Semaphore(in_flight)

    async def one(event: DeliveryRequested) -> None:
        async with slots:
            try:
                outcome = await deliver_requested(event, channel, service.deps)
            except Exception as exc:
                if is_transient(exc):
                    raise  # an outage: the whole batch comes back, what was done is skipped
                # A defect on this one request: it must not hold up the others. Its delivery
                # stays "sending" and is dispatched again when its lease runs out.
                logger.exception("delivery %s: request failed", event.payload.delivery_id)
                return
            logger.debug("delivery %s: %s", event.payload.delivery_id, outcome)

    @router.subscriber(service.runtime.topics.delivery_request(method), **options)
    async def on_requests(events: list[DeliveryRequested]) -> None:
        await asyncio.gather(*(one(e) for e in events))

    return router
