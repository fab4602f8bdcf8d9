"""Routing of the Kafka subscribers with FastStream's in-memory broker (not a broker test: the
real-broker tests are in tests/integration) and the handlers wired with fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from faststream.kafka import KafkaBroker, TestKafkaBroker

from portal_clients.entrypoints.consumers import register
from portal_clients.service.clients import ClientInput, create_client
from portal_clients.testing.fakes import fake_deps
from portal_clients.testing.samples import client_form
from portal_contracts.broker import publish_event
from portal_contracts.clients import ClientInvited, ClientInvitedPayload
from portal_contracts.identity import Caller, Role
from portal_contracts.topics import Topics
from portal_contracts.values import ClientStatus


async def test_client_invited_reaches_its_handler() -> None:
    deps = fake_deps()
    caller = Caller(office_id="o1", user_id="u", role=Role.ADMIN)
    client = await create_client(ClientInput(client_form(1)), caller, deps)
    broker = KafkaBroker()
    topics = Topics("unit.")
    register(broker, topics, deps, "clients")
    event = ClientInvited.new(
        office_id="o1",
        payload=ClientInvitedPayload(
            client_id=client.client_id,
            invitation_id="inv-1",
            email=client.data.user.email,
            expires_at=datetime.now(UTC) + timedelta(days=7),
        ),
    )
    async with TestKafkaBroker(broker) as test_broker:
        await publish_event(test_broker, topics, event)
    stored = await deps.clients.get(client.client_id)
    assert stored is not None
    assert stored.status is ClientStatus.INACTIVE
