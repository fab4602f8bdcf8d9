"""Batches (the consumer's and the sender's) have the effect of their items one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from portal_contracts.clients import ClientCreated
from portal_invitations.domain.model import ClientAccess, InvitationState
from portal_invitations.entrypoints.consumers import MAX_ATTEMPTS, consume, record_command
from portal_invitations.service import commands, handlers
from portal_invitations.service.deps import Deps

from ..fakes import FakeClientAccess, FakeQuota, fake_dependencies
from ..support import client_created
from .test_handlers import record, sender_for, sent


def using(deps: Deps, store: FakeClientAccess) -> FakeClientAccess:
    deps.access = deps.to_send = store
    return store


def state(store: FakeClientAccess) -> dict[str, object]:
    def one(a: ClientAccess) -> object:
        inv = a.invitation
        return (a.profile, inv and (inv.invitation_id, inv.state, inv.email), len(a.past))

    return {
        "documents": {c: one(a) for c, a in sorted(store.documents.items())},
        "queue": sorted(store.due_at),
    }


def batch_of(*items: commands.RecordClient) -> commands.RecordClients:
    return commands.RecordClients(items)


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
    await handlers.record_clients(batch_of(*batch), batched)

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
    store = using(deps, StaleReads())
    await handlers.record_client(record("c-1"), deps)  # the other replica's ClientCreated
    await handlers.record_clients(batch_of(record("c-1", invite=True, event_id="e-9")), deps)
    access = store.documents["c-1"]
    assert access.invitation is not None  # the import's invitation was not lost
    assert access.version == 2
    assert list(store.due_at) == ["c-1"]


async def test_a_client_changed_by_another_writer_is_sent_on_the_next_pass() -> None:
    deps = fake_dependencies()
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    sender = sender_for(deps)
    items = [record(f"c-{n}", invite=True, event_id=f"e-{n}", email=f"c{n}@x.be") for n in range(2)]
    await handlers.record_clients(batch_of(*items), deps)
    store.raced = {"c-0"}  # its claim loses
    assert await sender.send_due() == 2
    assert [m["To"].addresses[0].addr_spec for m in sent(deps)] == ["c1@x.be"]
    assert list(store.due_at) == ["c-0"]  # left as it was, not dropped
    store.raced = set()
    assert await sender.send_due() == 1
    assert len(sent(deps)) == 2
    assert store.due_at == {}


async def test_passes_smaller_than_the_queue_send_each_invitation_once() -> None:
    deps = fake_dependencies()
    deps.sending = replace(deps.sending, batch=25)
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    sender = sender_for(deps)
    items = [record(f"c-{n:03d}", invite=True, event_id=f"e-{n}") for n in range(60)]
    await handlers.record_clients(batch_of(*items), deps)
    assert [await sender.send_due() for _ in range(4)] == [25, 25, 10, 0]
    assert len({m["Message-ID"] for m in sent(deps)}) == 60
    assert store.due_at == {}
    assert len(store.published) == 60


async def test_the_quota_is_taken_once_per_office_and_pass() -> None:
    quota = FakeQuota(per_hour=3)
    deps = fake_dependencies(quota=quota)
    sender = sender_for(deps)
    items = [record(f"c-{n}", invite=True, event_id=f"e-{n}") for n in range(5)]
    items.append(record("b-1", invite=True, event_id="e-b", office_id="office-b"))
    await handlers.record_clients(batch_of(*items), deps)
    await sender.send_due()
    assert len(sent(deps)) == 4  # three of office-a, the one of office-b
    assert sorted(quota.used.values()) == [1, 3]
    assert await sender.send_due() == 0  # office-a's others wait for the next hour
    assert len(sent(deps)) == 4


class Poisoned(FakeClientAccess):
    """Storing client ``c-bad`` fails (a bug its data trips), whatever the path."""

    async def add_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        if any(a.client_id == "c-bad" for a in accesses):
            raise RuntimeError("boom")
        return await super().add_new(accesses)

    async def save(self, access: ClientAccess) -> None:
        if access.client_id == "c-bad":
            raise RuntimeError("boom")
        await super().save(access)


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
    store = using(deps, Poisoned())
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
    using(deps, Unavailable())
    event = client_created("office-a", "c-1", invite=True)
    set_aside: list[object] = []

    async def dead_letter(record: Any, exc: Exception, attempts: int) -> None:
        set_aside.append(record)

    def read(value: bytes) -> commands.RecordClient:
        return record_command(ClientCreated.model_validate_json(value), invite=True)

    with pytest.raises(ConnectionError):  # the batch is not committed: it comes back
        await consume([Record(event.model_dump_json().encode(), 0)], read, deps, dead_letter)  # type: ignore[list-item]
    assert set_aside == []


async def test_the_loop_sends_at_once_when_woken() -> None:
    deps = fake_dependencies()
    deps.sending = replace(deps.sending, poll_interval_s=30.0)
    sender = sender_for(deps)
    sender.start()
    try:
        await asyncio.sleep(0.05)  # its first pass found nothing: it now waits 30 s
        items = [record(f"c-{n}", invite=True, event_id=f"e-{n}") for n in range(3)]
        await handlers.record_clients(batch_of(*items), deps)
        sender.wake()
        async with asyncio.timeout(2):
            while len(sent(deps)) < 3:  # noqa: ASYNC110 - the sender runs on its own
                await asyncio.sleep(0.01)
    finally:
        await sender.stop()
