"""New clients stored by the sender: their invitations claimed in the insert and sent at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from portal_invitations.domain.model import ClientAccess, InvitationState
from portal_invitations.fakes import FakeClientAccess, FakeMailer, FakeQuota, fake_dependencies
from portal_invitations.service import handlers
from portal_invitations.service.sender import InvitationSender

from .test_handlers import record, sender_for


class CountingSaves(FakeClientAccess):
    updates: int = 0

    async def save(self, access: ClientAccess, **kw: Any) -> None:
        if access.version > 0:
            self.updates += 1
        await super().save(access, **kw)


def wired(
    quota: FakeQuota | None = None,
) -> tuple[handlers.Dependencies, CountingSaves, FakeMailer, InvitationSender]:
    deps = fake_dependencies()
    store = CountingSaves()
    deps.access = store
    mailer = FakeMailer()
    sender = sender_for(deps, mailer, quota)
    deps.store_new = sender.store_new
    return deps, store, mailer, sender


async def handed_over(sender: InvitationSender) -> None:
    while sender._handed:
        await asyncio.gather(*sender._handed)


async def test_an_imported_invitation_costs_one_update() -> None:
    deps, store, mailer, sender = wired()
    cmds = [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(7)]
    cmds.append(record("c-7", event_id="e-7"))  # no invitation asked
    await handlers.record_clients(cmds, deps)
    await handed_over(sender)
    assert len(mailer.sent) == 7
    assert store.updates == 7  # the outcomes; the claims were part of the inserts
    assert store.queue == {}
    assert len(store.published) == 7
    access = store.documents["c-0"]
    assert access.invitation is not None
    assert (access.invitation.state, access.invitation.attempts) == (InvitationState.SENT, 1)
    assert await sender.send_due() == 0


async def test_beyond_the_quota_or_the_room_invitations_wait_in_the_queue() -> None:
    deps, store, mailer, sender = wired(FakeQuota(per_hour=3))
    sender.handover_limit, sender.handover_wait_s = 2, 0.0
    cmds = [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(5)]
    await handlers.record_clients(cmds, deps)
    await handed_over(sender)
    assert len(mailer.sent) == 2  # the room
    assert len(store.queue) == 3
    await sender.send_due()
    assert len(mailer.sent) == 3  # the quota
    clock = deps.clock
    clock.moment += timedelta(hours=1)  # type: ignore[attr-defined]
    await sender.send_due()
    assert len(mailer.sent) == 5
    assert store.queue == {}


async def test_an_attempt_that_waited_half_its_lease_is_left_to_the_lease() -> None:
    deps, store, mailer, sender = wired()
    clock: Any = deps.clock
    sender._smtp_slots = slots = asyncio.Semaphore(0)  # a slow relay: every connection busy
    await handlers.record_clients([record("c-1", invite=True, event_id="e-1")], deps)
    await asyncio.sleep(0.01)  # the claimed attempt waits for a connection
    clock.moment += sender.policy.lease / 2 + timedelta(seconds=1)
    slots.release()
    await handed_over(sender)
    assert mailer.sent == []  # not sent: another sender may take it over when its lease ends
    access = store.documents["c-1"]
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.PENDING
    assert access.invitation.in_flight_until is not None
    clock.moment = access.invitation.in_flight_until  # the lease brings it back
    await sender.send_due()
    assert len(mailer.sent) == 1


async def test_a_stopping_sender_starts_nothing_new_and_queues_it() -> None:
    deps, store, mailer, sender = wired()
    sender.start()
    await sender.stop()
    await handlers.record_clients([record("c-1", invite=True, event_id="e-1")], deps)
    assert sender._handed == set()
    assert mailer.sent == []
    assert list(store.queue) == ["c-1"]  # for the next worker
