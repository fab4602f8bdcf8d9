"""Routing of the Kafka subscribers with FastStream's in-memory broker (not a broker test: the
real-broker tests are in tests/integration) and the handlers wired with fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from faststream.kafka import KafkaBroker, TestKafkaBroker

from portal_clients.bootstrap import Service
from portal_clients.config import Settings
from portal_clients.entrypoints.consumers import build_router
from portal_clients.service.clients import ClientInput, create_client
from portal_clients.testing.samples import client_form
from portal_contracts.broker import publish_event
from portal_contracts.clients import (
    ClientInvitationFailed,
    ClientInvitationFailedPayload,
    ClientInvitationRevoked,
    ClientInvitationRevokedPayload,
    ClientInvited,
    ClientInvitedPayload,
)
from portal_contracts.identity import Caller, Role
from portal_contracts.values import ClientStatus
from portal_servicekit.runtime import open_runtime
from portal_servicekit.settings import PlatformSettings

from ..fakes import fake_deps


async def test_invitation_events_reach_their_handlers() -> None:
    deps = fake_deps()
    caller = Caller(office_id="o1", user_id="u", role=Role.ADMIN)
    client = await create_client(ClientInput(client_form(1)), caller, deps)
    settings = Settings(
        platform=PlatformSettings.model_validate(
            {
                "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",  # never reached: in-memory broker
                "MONGODB_URI": "mongodb://127.0.0.1:9",
                "PORTAL_JWT_KEY": "unit-tests-signing-key-0123456789abcdef",
                "PORTAL_TOPIC_PREFIX": "unit.",
            }
        )
    )
    runtime = open_runtime("clients", settings.platform, "unit")
    broker, topics = KafkaBroker(), runtime.topics
    broker.include_router(build_router(Service(settings, runtime, deps)))
    event = ClientInvited.new(
        office_id="o1",
        payload=ClientInvitedPayload(
            client_id=client.client_id,
            invitation_id="inv-1",
            email=client.data.user.email,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ),
    )
    later = event.occurred_at + timedelta(seconds=1)
    failed = ClientInvitationFailed.new(
        office_id="o1",
        payload=ClientInvitationFailedPayload(
            client_id=client.client_id, invitation_id="inv-2", reason="mail.rejected"
        ),
    ).model_copy(update={"occurred_at": later})
    revoked = ClientInvitationRevoked.new(
        office_id="o1",
        payload=ClientInvitationRevokedPayload(client_id=client.client_id, invitation_id="inv-2"),
    ).model_copy(update={"occurred_at": later + timedelta(seconds=1)})
    async with TestKafkaBroker(broker) as test_broker:
        await publish_event(test_broker, topics, event)
        stored = await deps.clients.get(client.client_id)
        assert stored is not None
        assert stored.status is ClientStatus.INACTIVE
        await publish_event(test_broker, topics, failed)
        stored = await deps.clients.get(client.client_id)
        assert stored is not None
        assert stored.invitation is not None
        assert (stored.status, stored.invitation.reason) == (
            ClientStatus.NOT_INVITED,
            "mail.rejected",
        )
        await publish_event(test_broker, topics, revoked)
    stored = await deps.clients.get(client.client_id)
    assert stored is not None
    assert (stored.status, stored.invitation) == (ClientStatus.NOT_INVITED, None)
    await runtime.close()
