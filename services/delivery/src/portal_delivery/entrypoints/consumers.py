"""Kafka subscribers of the delivery service: thin edges handing events to the handlers.

- The planner (group ``<group>.planner``): DocumentReady (keyed by client), the clients' and the
  office's settings.
- A channel's worker (group ``<group>.<role>``: email, sftp, onedrive, clearfacts): its own request topic, in batches whose
  requests run concurrently (bounded); the batch's offsets are committed once every request of
  it is recorded in the ledger, so a crash redelivers them and the ledger's compare-and-set drops
  what was already done. Batches are read with servicekit's ``consume_batch``: an unreadable
  record is dead-lettered alone, an outage brings the batch back, a failing record is retried
  alone and then set aside (its delivery is dispatched again when its lease runs out).
"""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_contracts.delivery import DeliveryRequested
from portal_contracts.documents import DocumentReady
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged
from portal_contracts.values import TransferMethod
from portal_delivery.bootstrap import Service
from portal_delivery.ports import Channel
from portal_delivery.service.planning import (
    plan_documents,
    remember_client_route,
    remember_office_defaults,
    remember_office_profile,
)
from portal_delivery.service.sending import deliver_requested
from portal_servicekit.batches import consume_batch, undecoded

logger = logging.getLogger(__name__)


def build_router(service: Service) -> KafkaRouter:
    """The planner's consumers."""
    router = KafkaRouter()
    topics, deps = service.runtime.topics, service.deps
    options = subscriber_options(f"{service.settings.consumer_group}.planner")

    # In batches: one ledger write plans a whole batch (the documents are independent; a
    # replayed one is recognised by its delivery ids). The offsets are committed after it.
    batches = subscriber_options(
        f"{service.settings.consumer_group}.planner", batch=True, max_records=100
    )

    async def plan(events: list[DocumentReady]) -> None:
        await plan_documents(events, deps)

    @router.subscriber(topics.of(DocumentReady), decoder=undecoded, **batches)
    async def on_documents_ready(message: KafkaMessage) -> None:
        await consume_batch(
            message.raw_message,
            DocumentReady.model_validate_json,
            plan,
            broker=service.runtime.broker,
        )

    @router.subscriber(topics.of(ClientCreated), **options)
    async def on_client_created(event: ClientCreated) -> None:
        await remember_client_route(event.office_id, event.payload.client, deps)

    @router.subscriber(topics.of(ClientUpdated), **options)
    async def on_client_updated(event: ClientUpdated) -> None:
        await remember_client_route(event.office_id, event.payload.client, deps)

    @router.subscriber(topics.of(OfficeSettingsChanged), **options)
    async def on_office_settings(event: OfficeSettingsChanged) -> None:
        await remember_office_defaults(event, deps)

    @router.subscriber(topics.of(OfficeProfileChanged), **options)
    async def on_office_profile(event: OfficeProfileChanged) -> None:
        await remember_office_profile(event, deps)

    return router


def build_channel_router(
    service: Service, method: TransferMethod, channel: Channel, *, role: str | None = None
) -> KafkaRouter:
    router = KafkaRouter()
    in_flight = service.settings.requests_in_flight
    options = subscriber_options(
        f"{service.settings.consumer_group}.{role or method.value}",
        batch=True,
        max_records=in_flight,
    )
    slots = asyncio.Semaphore(in_flight)

    async def one(event: DeliveryRequested) -> None:
        async with slots:
            outcome = await deliver_requested(event, channel, service.deps)
            logger.debug("delivery %s: %s", event.payload.delivery_id, outcome)

    async def all_of(events: list[DeliveryRequested]) -> None:
        outcomes = await asyncio.gather(*(one(e) for e in events), return_exceptions=True)
        for outcome in outcomes:  # the batch comes back, or its records go one by one
            if isinstance(outcome, Exception):
                raise outcome

    @router.subscriber(
        service.runtime.topics.delivery_request(method), decoder=undecoded, **options
    )
    async def on_requests(message: KafkaMessage) -> None:
        await consume_batch(
            message.raw_message,
            DeliveryRequested.model_validate_json,
            all_of,
            broker=service.runtime.broker,
            handle_one=one,
        )

    return router
