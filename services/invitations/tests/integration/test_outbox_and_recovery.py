"""Crash windows on the real FerretDB: events committed by the client's document (or never),
in order; batched locks; a sender that died between its steps; a lost queue entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal_invitations.adapters.access_store import MongoClientAccess, lock_key
from portal_invitations.adapters.event_outbox import ORPHAN_AFTER, outbox_documents
from portal_invitations.adapters.locks import RecordLocks
from portal_invitations.adapters.outbox_relay import OutboxRelay
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientAccess, ClientProfile
from portal_invitations.domain.sending import RetryPolicy
from portal_invitations.entrypoints.consumers import record_command
from portal_invitations.service import handlers
from portal_invitations.testing import bearer, client_created, token_in

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
Document = dict[str, Any]


def profile(client_id: str = "c-1") -> ClientProfile:
    return ClientProfile(
        client_id, "office-a", "everyone", "marie@example.be", "Marie", "Dubois", "fr",
        "accountant_managed", "not_invited", "+32470123456", 1,
    )  # fmt: skip


class Published:
    """A publisher that records what it publishes, and can fail the next ``fail`` calls."""

    def __init__(self) -> None:
        self.events: list[Document] = []
        self.fail = 0

    async def __call__(self, entries: list[Document]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker unavailable")
        self.events.extend(entries)

    @property
    def types(self) -> list[str]:
        return [e["event_type"] for e in self.events]


def relay_for(store: MongoClientAccess, published: Published) -> OutboxRelay:
    relay = OutboxRelay(None, None, store.outbox, store.locks)  # type: ignore[arg-type]
    relay.publish = published  # no broker here
    return relay


async def activated(store: MongoClientAccess, client_id: str = "c-1") -> ClientAccess:
    """A stored client with one ClientActivated event not yet written."""
    await store.save(ClientAccess(profile=profile(client_id)))
    access = await store.get(client_id)
    assert access is not None
    access.activate_by_accountant(NOW, Cause())
    return access


async def test_an_event_committed_before_a_crash_is_published_by_the_relay(mongo_db: Any) -> None:
    store = MongoClientAccess(mongo_db, RecordLocks(mongo_db))
    await store.save(await activated(store))  # written; its writer died before publishing
    published = Published()
    assert await relay_for(store, published).relay_once() == 1
    assert published.types == ["ClientActivated"]
    assert published.events[0]["body"]["payload"] == {"client_id": "c-1", "by": "accountant"}
    assert await store.outbox.pending() == []
    assert await relay_for(store, published).relay_once() == 0  # once


async def test_an_event_whose_write_never_happened_is_never_published(mongo_db: Any) -> None:
    store = MongoClientAccess(mongo_db, RecordLocks(mongo_db))
    access = await activated(store)
    # The writer inserted its event, then died before writing the document.
    entry = {
        "event_id": "9b0e8f0e-0000-4000-8000-000000000001",
        "event_type": "ClientActivated",
        "key": "c-1",
        "correlation_id": "9b0e8f0e-0000-4000-8000-000000000002",
        "body": {},
    }
    (doc,) = outbox_documents("c-1", access.version + 1, [entry], datetime.now(UTC))
    await store.outbox.outbox.insert_one(doc)
    published = Published()
    relay = relay_for(store, published)
    assert await relay.relay_once() == 0
    assert len(await store.outbox.pending()) == 1  # its writer might still commit it
    old = datetime.now(UTC) - ORPHAN_AFTER - timedelta(seconds=1)
    await store.outbox.outbox.update_one({"_id": doc["_id"]}, {"$set": {"written_at": old}})
    assert await relay.relay_once() == 0
    assert published.events == []
    assert await store.outbox.pending() == []  # it never happened: dropped


async def test_a_lost_compare_and_set_leaves_no_event(mongo_db: Any) -> None:
    store = MongoClientAccess(mongo_db, RecordLocks(mongo_db))
    stale = await activated(store)
    fresh = await store.get("c-1")
    assert fresh is not None
    await store.save(fresh)  # someone else wrote first
    async with store.locked(["c-1"]) as batch:
        assert batch.locked == {"c-1"}
        assert await store.write_locked([stale]) == {"c-1"}
    assert await store.outbox.pending() == []
    stored = await store.get("c-1")
    assert stored is not None
    assert stored.activated_by is None


async def test_a_later_event_waits_behind_an_unpublished_earlier_one(mongo_db: Any) -> None:
    store = MongoClientAccess(mongo_db, RecordLocks(mongo_db))
    published = Published()
    store.publisher = published
    await store.save(ClientAccess(profile=profile()))  # version 1
    access = await store.get("c-1")
    assert access is not None
    access.invite("inv-1", NOW, "accountant", Cause())
    access.begin_sending("h" * 64, NOW, timedelta(days=14), RetryPolicy())
    await store.save(access, queue=False)  # the claim, version 2
    access = await store.get("c-1")
    assert access is not None
    access.sending_succeeded("inv-1", NOW)
    published.fail = 1  # the broker is down when ClientInvited is written (version 3)
    await store.save(access, publish_now=True)
    assert published.events == []
    access = await store.get("c-1")
    assert access is not None
    access.accept("h" * 64, "argon2-hash", NOW, Cause())
    await store.save(access, publish_now=True)  # ClientActivated, version 4
    assert published.types == ["ClientInvited", "ClientActivated"]
    assert [e["seq"] for e in published.events] == ["0000000003.0000", "0000000004.0000"]
    assert await store.outbox.pending() == []


async def test_locks_held_by_others_are_left_out_and_dead_ones_taken_over(
    mongo_db: Any,
) -> None:
    locks = RecordLocks(mongo_db, ttl=timedelta(seconds=15))
    async with locks.hold("a"):
        await mongo_db["locks"].insert_one(
            {"_id": "b", "owner": "dead", "until": datetime.now(UTC) - timedelta(seconds=1)}
        )
        async with locks.hold_many(["a", "b", "c"]) as held:
            assert held == {"b", "c"}
            async with locks.hold_many(["b", "c", "d"]) as other:
                assert other == {"d"}
        assert {d["_id"] async for d in mongo_db["locks"].find({})} == {"a"}


async def test_a_sender_that_died_after_sending_resends_after_its_lease(
    make_harness: Any,
) -> None:
    h = await make_harness(send_lease_s=120)
    await h.record(client_created("office-a", "c-1", invite=True))
    sender = h.service.sender

    async def died(claims: Any) -> None:
        return None  # the process died after the SMTP call, before recording

    record_all, sender._record_all = sender._record_all, died
    await h.send_due()
    (first,) = await h.smtp.handler.wait_for(1)
    sender._record_all = record_all
    assert await h.send_due() == 1  # its entry is still there, but the lease holds it back
    assert len(h.smtp.handler.received) == 1
    h.clock.advance(seconds=121)
    await h.send_due()
    second = (await h.smtp.handler.wait_for(2))[-1]
    assert second.message["Message-ID"] == first.message["Message-ID"]
    state = (await h.http.get("/v1/clients/c-1/invitation", headers=bearer("office-a"))).json()
    assert (state["invitation"]["state"], state["invitation"]["attempts"]) == ("sent", 2)
    body = {"token": token_in(first), "password": "cheval correct agrafe pile",
            "mobile_phone": "+32470123456"}  # fmt: skip
    accepted = await h.http.post("/v1/invitations/accept", json=body)
    assert accepted.status_code == 200, accepted.text  # the first e-mail's link still works


async def test_a_queue_entry_lost_in_a_crash_is_restored(make_harness: Any) -> None:
    h = await make_harness()
    await h.record(client_created("office-a", "c-1", invite=True))
    await h.service.db["send_queue"].delete_many({})  # died between the document and its entry
    assert await h.send_due() == 0
    store = h.service.store
    assert await store.restore_side_entries() == 0  # just written: its entry may be on its way
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert await store.restore_side_entries(later) == 1
    assert await store.restore_side_entries(later) == 0
    assert await h.send_due() == 1
    await h.smtp.handler.wait_for(1)


async def test_the_sender_claims_many_clients_in_chunks(make_harness: Any) -> None:
    h = await make_harness()
    h.service.sender.chunk = 20
    for n in range(45):
        await h.record(client_created("office-a", f"c-{n:02d}", email=f"c{n}@example.be",
                                      invite=True))  # fmt: skip
    await h.service.db["locks"].insert_one(
        {"_id": lock_key("c-07"), "owner": "someone", "until": datetime.now(UTC) + timedelta(1)}
    )
    assert await h.send_due() == 45
    await h.smtp.handler.wait_for(44)
    await h.service.db["locks"].delete_many({})
    assert await h.send_due() == 1
    received = await h.smtp.handler.wait_for(45)
    assert len({r.rcpt_tos[0] for r in received}) == 45
    assert await h.service.db["send_queue"].count_documents({}) == 0
    pending = await h.service.store.outbox.pending()
    assert [e["event_type"] for e in pending] == ["ClientInvited"] * 45  # no relay here


async def test_a_worker_that_died_after_storing_claimed_invitations_sends_after_the_lease(
    make_harness: Any,
) -> None:
    h = await make_harness(send_lease_s=120)
    sender = h.service.sender
    h.service.deps.store_new = sender.store_new  # as the worker wires it

    async def died(claims: Any) -> None:
        return None  # the process died right after the insert, before any e-mail

    sender._send_claimed = died
    event = client_created("office-a", "c-1", invite=True)
    await handlers.record_clients([record_command(event, invite=True)], h.service.deps)
    doc = await h.service.db["client_access"].find_one({"_id": "c-1"})
    assert doc["version"] == 1  # claimed in the insert itself
    assert doc["invitation"]["in_flight_until"] is not None
    assert await h.send_due() == 0  # its queue entry waits for the end of the lease
    h.clock.advance(seconds=121)
    assert await h.send_due() == 1
    (received,) = await h.smtp.handler.wait_for(1)
    state = (await h.http.get("/v1/clients/c-1/invitation", headers=bearer("office-a"))).json()
    assert (state["invitation"]["state"], state["invitation"]["attempts"]) == ("sent", 2)
    assert (
        received.message["Message-ID"]
        == f"<invitation.{doc['invitation']['invitation_id']}@portal.example>"
    )
