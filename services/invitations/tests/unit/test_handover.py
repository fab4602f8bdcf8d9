"""New clients stored by the sender: their invitations claimed in the insert and sent at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from portal_invitations.domain.model import InvitationState
from portal_invitations.service import commands, handlers, sender
from portal_invitations.service.deps import Deps
from portal_invitations.service.sender import InvitationSender

from ..fakes import FakeClientAccess, FakeQuota, fake_dependencies
from .test_handlers import record, sender_for, sent


def wired(quota: FakeQuota | None = None) -> tuple[Deps, FakeClientAccess, InvitationSender]:
    deps = fake_dependencies(quota=quota)
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    invitations = sender_for(deps)
    deps.store_new = invitations.store_new
    invitations._started = True  # as a started worker's, without its loop
    return deps, store, invitations


async def handed_over(invitations: InvitationSender) -> None:
    while invitations._running:
        await asyncio.gather(*invitations._running)


def batch(*items: commands.RecordClient) -> commands.RecordClients:
    return commands.RecordClients(items)


async def test_an_imported_invitation_costs_one_write_after_its_insert() -> None:
    deps, store, invitations = wired()
    items = [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(7)]
    await handlers.record_clients(batch(*items, record("c-7", event_id="e-7")), deps)
    await handed_over(invitations)
    assert len(sent(deps)) == 7
    assert store.writes == 8 + 7  # the inserts, then the outcomes: no claims
    assert store.due_at == {}
    assert len(store.published) == 7
    access = store.documents["c-0"]
    assert access.invitation is not None
    assert (access.invitation.state, access.invitation.attempts) == (InvitationState.SENT, 1)
    assert await invitations.send_due() == 0


async def test_beyond_the_quota_or_the_room_invitations_wait_in_the_queue(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(sender, "HAND_OVER", 2)
    monkeypatch.setattr(sender, "HAND_OVER_WAIT_S", 0.0)
    deps, store, invitations = wired(FakeQuota(per_hour=3))
    items = [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(5)]
    await handlers.record_clients(batch(*items), deps)
    await handed_over(invitations)
    assert len(sent(deps)) == 2  # the room
    assert len(store.due_at) == 3
    await invitations.send_due()
    assert len(sent(deps)) == 3  # the quota
    clock: Any = deps.clock
    clock.moment += timedelta(hours=1)
    await invitations.send_due()
    assert len(sent(deps)) == 5
    assert store.due_at == {}


async def test_an_attempt_that_waited_half_its_lease_is_left_to_the_lease() -> None:
    deps, store, invitations = wired()
    clock: Any = deps.clock
    invitations._smtp_slots = slots = asyncio.Semaphore(0)  # a slow relay: every connection busy
    await handlers.record_clients(batch(record("c-1", invite=True, event_id="e-1")), deps)
    await asyncio.sleep(0.01)  # the claimed attempt waits for a connection
    clock.moment += deps.sending.retry.lease / 2 + timedelta(seconds=1)
    slots.release()
    await handed_over(invitations)
    assert sent(deps) == []  # not sent: another sender may take it over when its lease ends
    access = store.documents["c-1"]
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.PENDING
    assert access.invitation.in_flight_until is not None
    clock.moment = access.invitation.in_flight_until  # the lease brings it back
    await invitations.send_due()
    assert len(sent(deps)) == 1


async def test_a_stopped_sender_takes_nothing_in_hand() -> None:
    deps, store, invitations = wired()
    invitations.start()
    await invitations.stop()
    await handlers.record_clients(batch(record("c-1", invite=True, event_id="e-1")), deps)
    assert invitations._running == set()
    assert sent(deps) == []
    assert list(store.due_at) == ["c-1"]  # for the next worker
