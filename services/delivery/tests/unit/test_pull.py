"""The pulled channel's rules (domain/pull.py) and the agent handlers with fakes: available when
due, leased by one poll, acknowledged once, back after its lease, refused with back-off, and a
key sees its own connection only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_contracts.clients import AgentTarget, SendTiming, Timing
from portal_contracts.identity import Caller, Role
from portal_delivery.domain import pull
from portal_delivery.domain.connections import Kind, build
from portal_delivery.domain.delivery import State
from portal_delivery.service import agent_keys
from portal_delivery.service import pull as pulling
from portal_delivery.service.deps import Deps
from portal_delivery.service.planning import plan_document, remember_client_route
from portal_delivery.service.sending import dispatch_due
from services.delivery.tests.fakes import FakeLedger, FixedClock, fake_deps
from services.delivery.tests.samples import blob, document_ready, snapshot

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
UBL = b"<Invoice/>"
ADMIN = Caller(office_id="o1", user_id="u1", role=Role.ADMIN)
TARGET = AgentTarget(connection="Serveur", folder="acme")


@pytest.fixture
async def deps() -> Deps:
    deps = fake_deps(NOW)
    agent = build("o1", "Serveur", Kind.AGENT, {"base_folder": "inbox"}, {})
    await deps.connections.save(agent, 0)
    await remember_client_route(
        "o1", snapshot(1, target=TARGET, timing=Timing(when=SendTiming.IMMEDIATELY)), deps
    )
    return deps


def ledger(deps: Deps) -> FakeLedger:
    assert isinstance(deps.ledger, FakeLedger)
    return deps.ledger


async def ready(deps: Deps) -> str:
    ubl = blob(UBL, "INV-1.xml", "application/xml")
    deps.files.blobs[ubl.blob_id] = UBL  # type: ignore[attr-defined]
    event = document_ready(ubl).model_copy(update={"occurred_at": deps.clock.now()})
    await plan_document(event, deps)
    [delivery] = [
        d for d in ledger(deps).stored.values() if d.document_id == event.payload.document_id
    ]
    return delivery.delivery_id


def clock(deps: Deps) -> FixedClock:
    assert isinstance(deps.clock, FixedClock)
    return deps.clock


async def test_a_due_agent_delivery_is_made_available_not_requested(deps: Deps) -> None:
    delivery_id = await ready(deps)
    stored = ledger(deps).stored[delivery_id]
    assert stored.state is State.AVAILABLE
    assert stored.folder == "acme/sales"
    assert ledger(deps).requests() == []  # no Kafka request for a pulled channel


async def test_an_item_is_leased_by_one_poll_and_acknowledged_once(deps: Deps) -> None:
    delivery_id = await ready(deps)
    key, _ = await agent_keys.issue_agent_key(ADMIN, "serveur", deps)
    [item] = await pulling.feed(key, deps)
    assert item.folder == "inbox/acme/sales"
    assert await pulling.feed(key, deps) == []  # leased: nobody else gets it
    files = [
        {"name": f.name, "path": f"x/{f.name}", "sha256": f.sha256} for f in item.delivery.files
    ]
    sent = await pulling.acknowledge(key, delivery_id, item.lease_token, files, deps)
    assert sent.state is State.SENT
    again = await pulling.acknowledge(key, delivery_id, item.lease_token, files, deps)
    assert again.version == sent.version  # a repeated ack changes nothing
    events = [e.event_type for e in ledger(deps).published]
    assert events.count("DocumentDelivered") == 1


async def test_a_lease_that_runs_out_brings_the_item_back_under_the_same_attempt(
    deps: Deps,
) -> None:
    delivery_id = await ready(deps)
    key, _ = await agent_keys.issue_agent_key(ADMIN, "Serveur", deps)
    [first] = await pulling.feed(key, deps)
    clock(deps).advance(deps.agent_lease + timedelta(seconds=1))
    assert await dispatch_due(deps) == 1  # the scheduler claims the expired lease
    assert ledger(deps).stored[delivery_id].state is State.AVAILABLE
    [second] = await pulling.feed(key, deps)
    assert second.delivery.attempts[-1].number == first.delivery.attempts[-1].number
    files = [{"name": f.name, "sha256": f.sha256} for f in second.delivery.files]
    with pytest.raises(pull.LeaseLost):  # the first lease is no longer this item's
        await pulling.acknowledge(key, delivery_id, first.lease_token, files, deps)
    assert (
        await pulling.acknowledge(key, delivery_id, second.lease_token, files, deps)
    ).state is State.SENT


async def test_an_ack_with_other_bytes_than_the_documents_is_refused(deps: Deps) -> None:
    delivery_id = await ready(deps)
    key, _ = await agent_keys.issue_agent_key(ADMIN, "Serveur", deps)
    [item] = await pulling.feed(key, deps)
    wrong = [{"name": f.name, "sha256": "0" * 64} for f in item.delivery.files]
    with pytest.raises(pull.NotWhatWasSent):
        await pulling.acknowledge(key, delivery_id, item.lease_token, wrong, deps)
    assert ledger(deps).stored[delivery_id].state is State.SENDING


async def test_a_refusal_backs_off_then_the_item_is_available_again(deps: Deps) -> None:
    delivery_id = await ready(deps)
    key, _ = await agent_keys.issue_agent_key(ADMIN, "Serveur", deps)
    [item] = await pulling.feed(key, deps)
    refused = await pulling.refuse(key, delivery_id, item.lease_token, "disk full", deps)
    assert refused.state is State.SCHEDULED
    assert refused.attempts[-1].retry_at == refused.due_at
    clock(deps).advance(timedelta(hours=1))
    assert await dispatch_due(deps) == 1
    assert ledger(deps).stored[delivery_id].state is State.AVAILABLE
    assert ledger(deps).stored[delivery_id].attempt == 2


async def test_an_item_never_acknowledged_fails_after_its_last_lease(deps: Deps) -> None:
    delivery_id = await ready(deps)
    key, _ = await agent_keys.issue_agent_key(ADMIN, "Serveur", deps)
    for _ in range(pull.MAX_LEASES):
        assert len(await pulling.feed(key, deps)) == 1
        clock(deps).advance(deps.agent_lease + timedelta(seconds=1))
        await dispatch_due(deps)
    assert await pulling.feed(key, deps) == []
    failed = ledger(deps).stored[delivery_id]
    assert failed.state is State.FAILED
    assert failed.last_problem is not None
    assert failed.last_problem.code == "agent.never_acknowledged"


async def test_a_key_sees_its_own_connection_only_and_revoked_keys_nothing(deps: Deps) -> None:
    delivery_id = await ready(deps)
    other = build("o1", "Other", Kind.AGENT, {}, {})
    await deps.connections.save(other, 0)
    other_key, other_token = await agent_keys.issue_agent_key(ADMIN, "Other", deps)
    assert await pulling.feed(other_key, deps) == []
    with pytest.raises(pulling.NotYours):
        await pulling.download(other_key, delivery_id, "x.xml", deps)
    [listed] = await agent_keys.list_agent_keys(ADMIN, "Other", deps)
    await agent_keys.revoke_agent_key(ADMIN, "Other", listed.key_id, deps)
    assert await deps.agent_keys.verify(other_token) is None
    _, token = await agent_keys.issue_agent_key(ADMIN, "Serveur", deps)
    stored = await deps.connections.get("o1", "Serveur")
    assert stored is not None
    await deps.connections.delete("o1", "Serveur", stored.version)
    assert await deps.agent_keys.verify(token) is None  # deleting the connection revokes
