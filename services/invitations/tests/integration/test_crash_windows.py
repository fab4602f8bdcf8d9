"""Crash windows and races on the real MongoDB-wire server: a change and its events commit
together or not at all; of concurrent claims one wins; a sender that died after sending sends
again after its lease, with the same Message-ID."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientAccess, ClientProfile
from portal_invitations.entrypoints.consumers import record_command
from portal_invitations.service import commands, handlers

from ..support import bearer, client_created, outbox_events, token_in

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def profile(client_id: str = "c-1") -> ClientProfile:
    return ClientProfile(
        client_id, "office-a", "everyone", f"{client_id}@example.be", "Marie", "Dubois", "fr",
        "accountant_managed", "not_invited", "+32470123456", 1,
    )  # fmt: skip


async def stored(store: Any, client_id: str = "c-1") -> ClientAccess:
    await store.save(ClientAccess(profile=profile(client_id)))
    access = await store.get(client_id)
    assert access is not None
    return access


async def test_a_change_and_its_events_commit_together_or_not_at_all(make_harness: Any) -> None:
    h = await make_harness()
    store, outbox = h.service.deps.access, h.service.runtime.outbox
    access = await stored(store)
    access.activate_by_accountant(NOW, Cause())
    real_add = outbox.add

    async def crash_before_commit(events: Any, *, session: Any) -> None:
        await real_add(events, session=session)
        raise RuntimeError("the process died before the commit")

    outbox.add = crash_before_commit
    with pytest.raises(RuntimeError):
        await store.save(access)
    outbox.add = real_add
    assert await outbox_events(h.service.runtime.db) == []  # never published: never committed
    assert (await h.document("c-1"))["activated_by"] is None
    fresh = await store.get("c-1")
    fresh.activate_by_accountant(NOW, Cause())
    await store.save(fresh)
    (event,) = await h.outbox("c-1")
    assert event["body"]["payload"] == {"client_id": "c-1", "by": "accountant"}


async def test_of_a_batch_only_the_stale_clients_and_their_events_are_left_out(
    make_harness: Any,
) -> None:
    h = await make_harness()
    store = h.service.deps.access
    batch = [await stored(store, f"c-{n}") for n in range(3)]
    other = await store.get("c-1")
    await store.save(other)  # another writer changed c-1 after the batch loaded it
    for access in batch:
        access.activate_by_accountant(NOW, Cause())
    assert await store.save_many(batch) == {"c-1"}
    assert [a.version for a in batch] == [2, 1, 2]  # c-1 stays as loaded
    events = await outbox_events(h.service.runtime.db)
    assert sorted(e["body"]["payload"]["client_id"] for e in events) == ["c-0", "c-2"]
    assert (await h.document("c-1"))["activated_by"] is None


async def test_of_two_senders_each_invitation_is_claimed_by_one(make_harness: Any) -> None:
    first = await make_harness()
    second = await make_harness()  # another worker on the same database
    for n in range(30):
        await first.record(client_created("office-a", f"c-{n:02d}", email=f"c{n}@example.be",
                                          invite=True))  # fmt: skip
    due = await first.service.deps.to_send.due(first.clock.now(), 100)
    assert len(due) == 30
    await asyncio.gather(first.send_due(), second.send_due(), first.send_due())
    received = await first.smtp.handler.wait_for(30)
    await asyncio.sleep(0.5)
    assert len(first.smtp.handler.received) == 30
    assert len({r.message["Message-ID"] for r in received}) == 30
    assert await first.service.deps.to_send.due(first.clock.now(), 100) == []
    events = await outbox_events(first.service.runtime.db)
    assert [e["event_type"] for e in events] == ["ClientInvited"] * 30


async def test_a_claim_lost_to_another_writer_is_left_to_it(make_harness: Any) -> None:
    h = await make_harness()
    to_send, store = h.service.deps.to_send, h.service.deps.access
    for n in range(3):
        await h.record(client_created("office-a", f"c-{n}", email=f"c{n}@example.be", invite=True))
    due = await to_send.due(h.clock.now(), 10)
    changed = await store.get("c-1")
    await store.save(changed)  # e.g. a ClientUpdated, between the page and the claim
    for access in due:
        access.begin_sending(f"hash-{access.client_id}", h.clock.now(), h.service.settings.token_ttl,
                             h.service.settings.retry_policy)  # fmt: skip
    won = await to_send.claim(due)
    assert [a.client_id for a in won] == ["c-0", "c-2"]
    assert [a.client_id for a in await to_send.due(h.clock.now(), 10)] == ["c-1"]


async def test_a_sender_that_died_after_sending_resends_after_its_lease(
    make_harness: Any,
) -> None:
    h = await make_harness(send_lease_s=120)
    await h.record(client_created("office-a", "c-1", invite=True))
    sender = h.service.sender

    async def died(attempts: Any) -> None:
        return None  # the process died after the SMTP call, before recording

    record, sender._record = sender._record, died
    assert await h.send_due() == 1
    (first,) = await h.smtp.handler.wait_for(1)
    sender._record = record
    assert await h.send_due() == 0  # the lease holds it back
    h.clock.advance(seconds=121)
    assert await h.send_due() == 1
    second = (await h.smtp.handler.wait_for(2))[-1]
    assert second.message["Message-ID"] == first.message["Message-ID"]
    state = (await h.http.get("/v1/invitations/clients/c-1", headers=bearer("office-a"))).json()
    assert (state["invitation"]["state"], state["invitation"]["attempts"]) == ("sent", 2)
    assert [e["event_type"] for e in await h.outbox("c-1")] == ["ClientInvited"]
    body = {"token": token_in(first), "password": "cheval correct agrafe pile",
            "mobile_phone": "+32470123456"}  # fmt: skip
    accepted = await h.http.post("/v1/invitations/accept", json=body)
    assert accepted.status_code == 200, accepted.text  # the first e-mail's link still works


async def test_a_worker_that_died_after_storing_claimed_invitations_sends_after_the_lease(
    make_harness: Any,
) -> None:
    h = await make_harness(send_lease_s=120)
    sender = h.service.sender
    h.service.deps.store_new = sender.store_new  # as the worker wires it
    sender._started = True

    async def died(attempts: Any) -> None:
        return None  # the process died right after the insert, before any e-mail

    sender._hand_over = died
    event = client_created("office-a", "c-1", invite=True)
    await handlers.record_clients(
        commands.RecordClients((record_command(event, invite=True),)), h.service.deps
    )
    doc = await h.document("c-1")
    assert doc["version"] == 1  # claimed in the insert itself
    assert doc["invitation"]["in_flight_until"] is not None
    assert await h.send_due() == 0  # due again only when the lease ends
    h.clock.advance(seconds=121)
    assert await h.send_due() == 1
    (received,) = await h.smtp.handler.wait_for(1)
    state = (await h.http.get("/v1/invitations/clients/c-1", headers=bearer("office-a"))).json()
    assert (state["invitation"]["state"], state["invitation"]["attempts"]) == ("sent", 2)
    assert (
        received.message["Message-ID"]
        == f"<invitation.{doc['invitation']['invitation_id']}@portal.example>"
    )
