"""Kafka edge: ClientCreated (with the import's invite flag) and ClientUpdated keep this
service's read model of clients and queue invitations. Subscribers only translate."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_contracts.topics import Topics
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientProfile
from portal_invitations.service import commands, handlers


def record_command(event: ClientCreated | ClientUpdated, invite: bool) -> commands.RecordClient:
    client = event.payload.client
    profile = ClientProfile(
        client_id=client.client_id,
        office_id=event.office_id,
        group_id=client.group_id,
        email=client.user.email,
        first_name=client.user.first_name,
        last_name=client.user.last_name,
        language=client.user.language.value,
        subscription_mode=client.company.subscription_mode.value,
        status=client.status.value,
        mobile_phone=client.user.mobile_phone,
        version=client.version,
    )
    cause = Cause(correlation_id=str(event.correlation_id), causation_id=str(event.event_id))
    return commands.RecordClient(profile, str(event.event_id), cause, invite)


def build_router(topics: Topics, group_id: str, deps: handlers.Dependencies) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(topics.of(ClientCreated), **subscriber_options(group_id))
    async def on_client_created(event: ClientCreated) -> None:
        await handlers.record_client(record_command(event, event.payload.invite), deps)

    @router.subscriber(topics.of(ClientUpdated), **subscriber_options(group_id))
    async def on_client_updated(event: ClientUpdated) -> None:
        await handlers.record_client(record_command(event, invite=False), deps)

    return router
