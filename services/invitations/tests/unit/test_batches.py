"""Batches (the consumer's and the sender's) have the effect of their items one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from portal_contracts.clients import ClientCreated
from portal_invitations.domain.model import ClientAccess, InvitationState
from portal_invitations.entrypoints.consumers import MAX_ATTEMPTS, consume, record_command
from portal_invitations.fakes import FakeClientAccess, FakeMailer, FakeQuota, fake_dependencies
from portal_invitations.ports import Added
from portal_invitations.service import commands, handlers
from portal_invitations.testing import client_created

from .test_handlers import record, sender_for


def state(store: FakeClientAccess) -> dict[str, object]:
    def one(a: ClientAccess) -> object:
        inv = a.invitation
        return (a.profile, inv and (inv.invitation_id, inv.state, inv.email), len(a.past))

    return {
        "documents": {c: one(a) for c, a in sorted(store.documents.items())},
        "queue": sorted(store.queue),
    }


async def test_a_batch_has_the_effect_of_its_commands_one_by_one() -> None:
    before = [record("c-4", invite=True, event_id="e-0")]
    batch = [
        record("c-1", invite=True, event_id="e-1"),
        record("c-1", invite=True, event_id="e-1"),  # redelivered within the batch
        record("c-2", event_id="e-2"),
        record("c-2", event_id="e-3", email="paul@example.be", version=2),
        record("c-3", invite=True, event_id="e-4", last_name="Eve\nBcc: x@y.z"),
        record("c-4", event_id="e-5", email="new@example.be", version=2),  # reissued
        record("c-4", event_id="e-6", version=1),  # older: ignored
        record("c-1", invite=True, event_id="e-7", office_id="office-b"),  # another office's id
    ]
    one_by_one, batched = fake_dependencies(), fake_dependencies()
    for deps in (one_by_one, batched):
        for cmd in before:
            await handlers.record_client(cmd, deps)
    for cmd in batch:
        await handlers.record_client(cmd, one_by_one)
    await handlers.record_clients(batch, batched)

    expected, got = one_by_one.access, batched.access
    assert isinstance(expected, FakeClientAccess)
    assert isinstance(got, FakeClientAccess)
    assert state(got) == state(expected)
    c3 = got.documents["c-3"].invitation
    assert c3 is not None
    assert c3.state is InvitationState.FAILED


class StaleReads(FakeClientAccess):
    """Reads miss what another replica stored a moment before the batch's insert."""

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        return {}


async def test_a_client_stored_meanwhile_is_recorded_again_one_by_one() -> None:
    deps = fake_dependencies()
    store = StaleReads()
    deps.access = store
    await handlers.record_client(record("c-1"), deps)  # the other replica's ClientCreated
    await handlers.record_clients([record("c-1", invite=True, event_id="e-9")], deps)
    access = store.documents["c-1"]
    assert access.invitation is not None  # the import's invitation was not lost
    assert access.version == 2
    assert list(store.queue) == ["c-1"]


async def test_a_client_held_by_another_writer_is_sent_on_the_next_pass() -> None:
    deps = fake_dependencies()
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    mailer = FakeMailer()
    sender = sender_for(deps, mailer)
    await handlers.record_clients(
        [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(2)],
        deps,
    )
    store.busy = {"c-0"}
    assert await sender.send_due() == 2
    assert [m["To"].addresses[0].addr_spec for m in mailer.sent] == ["c1@x.be"]
    assert list(store.queue) == ["c-0"]  # left as it was, not dropped
    store.busy = set()
    assert await sender.send_due() == 1
    assert len(mailer.sent) == 2
    assert store.queue == {}


async def test_a_pass_larger_than_a_chunk_sends_each_invitation_once() -> None:
    deps = fake_dependencies()
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    mailer = FakeMailer()
    sender = sender_for(deps, mailer)
    sender.chunk = 7
    cmds = [record(f"c-{n:03d}", invite=True, event_id=f"e-{n}") for n in range(60)]
    await handlers.record_clients(cmds, deps)
    assert await sender.send_due() == 60
    assert len({m["Message-ID"] for m in mailer.sent}) == 60
    assert store.queue == {}
    assert len(store.published) == 60


async def test_the_quota_is_taken_once_per_office_and_pass() -> None:
    deps = fake_dependencies()
    mailer = FakeMailer()
    quota = FakeQuota(per_hour=3)
    sender = sender_for(deps, mailer, quota)
    cmds = [record(f"c-{n}", invite=True, event_id=f"e-{n}") for n in range(5)]
    cmds.append(record("b-1", invite=True, event_id="e-b", office_id="office-b"))
    await handlers.record_clients(cmds, deps)
    await sender.send_due()
    assert len(mailer.sent) == 4  # three of office-a, the one of office-b
    assert sorted(quota.used.values()) == [1, 3]
    await sender.send_due()
    assert len(mailer.sent) == 4  # office-a waits for the next hour


class Poisoned(FakeClientAccess):
    """Storing client ``c-bad`` fails (a bug its data trips), whatever the path."""

    async def add_new(self, accesses: Sequence[ClientAccess], *, queue: bool = True) -> Added:
        if any(a.client_id == "c-bad" for a in accesses):
            raise RuntimeError("boom")
        return await super().add_new(accesses, queue=queue)

    async def save(self, access: ClientAccess, **kw: Any) -> None:
        if access.client_id == "c-bad":
            raise RuntimeError("boom")
        await super().save(access, **kw)


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "portal.clients.client-created.v1"
    partition: int = 0
    key: bytes = b""
    headers: tuple[tuple[str, bytes], ...] = ()


async def test_a_record_that_keeps_failing_is_set_aside_and_the_others_are_recorded() -> None:
    deps = fake_dependencies()
    store = Poisoned()
    deps.access = store
    events = [client_created("office-a", c, invite=True) for c in ("c-1", "c-bad", "c-2")]
    records = [Record(e.model_dump_json().encode(), n) for n, e in enumerate(events)]
    records.append(Record(b"{not json", 3))
    set_aside: list[tuple[int, str, int]] = []

    async def dead_letter(record: Any, exc: Exception, attempts: int) -> None:
        set_aside.append((record.offset, type(exc).__name__, attempts))

    def read(value: bytes) -> commands.RecordClient:
        event = ClientCreated.model_validate_json(value)
        return record_command(event, event.payload.invite)

    await consume(records, read, deps, dead_letter)  # type: ignore[arg-type]
    assert set_aside == [(3, "ValidationError", 1), (1, "RuntimeError", MAX_ATTEMPTS)]
    assert sorted(store.documents) == ["c-1", "c-2"]


class Unavailable(FakeClientAccess):
    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        raise ConnectionError("database unreachable")


async def test_an_outage_sends_the_whole_batch_back_and_sets_nothing_aside() -> None:
    deps = fake_dependencies()
    deps.access = Unavailable()
    event = client_created("office-a", "c-1", invite=True)
    set_aside: list[object] = []

    async def dead_letter(record: Any, exc: Exception, attempts: int) -> None:
        set_aside.append(record)

    def read(value: bytes) -> commands.RecordClient:
        return record_command(ClientCreated.model_validate_json(value), invite=True)

    with pytest.raises(ConnectionError):  # the batch is not committed: it comes back
        await consume([Record(event.model_dump_json().encode(), 0)], read, deps, dead_letter)  # type: ignore[list-item]
    assert set_aside == []


class CountingPolls(FakeClientAccess):
    polls: int = 0

    async def due_for_sending(self, *args: Any) -> list[Any]:
        self.polls += 1
        return await super().due_for_sending(*args)


async def test_empty_polls_back_off_and_a_write_wakes_the_sender() -> None:
    deps = fake_dependencies()
    store = CountingPolls()
    deps.access = store
    sender = sender_for(deps, FakeMailer())
    sender.poll_interval_s, sender.idle_max_s = 0.01, 0.16
    sender.start()
    try:
        await asyncio.sleep(0.6)
        assert store.polls <= 10  # 0.01, 0.02, 0.04, 0.08, 0.16, 0.16, ... (not 60)
        before = store.polls
        sender.wake()
        await asyncio.sleep(0.05)
        assert store.polls >= before + 2  # at once, then at the short interval again
    finally:
        await sender.stop()
