"""Races: a conditional write has exactly one winner, operators are atomic, a claim is taken once.

What the services build on: optimistic concurrency (the version in the filter), queue claims by
``find_one_and_update`` with a sort, upserts on one key, ``delete_one`` as a compare-and-delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from portal_servicekit.leases import Lease, claim_due
from tests.mongo_semantics.conftest import race

pytestmark = pytest.mark.integration

RACERS = 30
ROUNDS = 5


async def test_a_versioned_update_has_exactly_one_winner_per_round(mongo_db: Any) -> None:
    clients = mongo_db["clients"]
    await clients.insert_one({"_id": "c1", "version": 0, "name": "Acme"})
    for round_ in range(ROUNDS):

        async def edit(i: int, version: int = round_) -> int:
            result = await clients.update_one(
                {"_id": "c1", "version": version},
                {"$set": {"version": version + 1, "name": f"writer {i}"}},
            )
            return result.modified_count

        outcomes = await race(RACERS, edit)
        assert sum(o for o in outcomes if isinstance(o, int)) == 1, outcomes
    assert (await clients.find_one({"_id": "c1"}))["version"] == ROUNDS


async def test_a_versioned_find_one_and_update_has_exactly_one_winner(mongo_db: Any) -> None:
    clients = mongo_db["clients"]
    await clients.insert_one({"_id": "c1", "version": 0})

    async def edit(i: int) -> Any:
        return await clients.find_one_and_update(
            {"_id": "c1", "version": 0},
            {"$set": {"version": 1, "by": i}},
            return_document=ReturnDocument.AFTER,
        )

    outcomes = await race(RACERS, edit)
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert len(winners) == 1
    assert (await clients.find_one({"_id": "c1"}))["by"] == winners[0]["by"]


async def test_concurrent_increments_are_all_counted(mongo_db: Any) -> None:
    quotas = mongo_db["quotas"]
    await quotas.insert_one({"_id": "office-1:2026-12-03T10", "sent": 0})

    async def take(i: int) -> None:
        await quotas.update_one({"_id": "office-1:2026-12-03T10"}, {"$inc": {"sent": 1}})

    await race(RACERS, take)
    assert (await quotas.find_one({"_id": "office-1:2026-12-03T10"}))["sent"] == RACERS


async def test_a_queue_claim_gives_each_due_item_to_exactly_one_worker(mongo_db: Any) -> None:
    deliveries = mongo_db["deliveries"]
    await deliveries.create_index([("state", 1), ("due_at", 1)])
    now = datetime.now(UTC)
    await deliveries.insert_many(
        [
            {"_id": f"d{i}", "state": "scheduled", "due_at": now - timedelta(seconds=i)}
            for i in range(10)
        ]
        + [{"_id": "later", "state": "scheduled", "due_at": now + timedelta(hours=1)}]
    )

    async def work(i: int) -> list[str]:
        taken: list[str] = []
        while True:
            item = await claim_due(
                deliveries,
                {"state": "scheduled"},
                now=now,
                lease=timedelta(minutes=1),
                owner=f"w{i}",
            )
            if item is None:
                return taken
            taken.append(item["_id"])

    outcomes = await race(RACERS, work)
    claimed = [d for o in outcomes if isinstance(o, list) for d in o]
    assert sorted(claimed) == sorted(f"d{i}" for i in range(10))  # each once; "later" not due


async def test_a_claim_takes_the_oldest_due_item_first(mongo_db: Any) -> None:
    deliveries = mongo_db["deliveries"]
    await deliveries.create_index([("state", 1), ("due_at", 1)])
    now = datetime.now(UTC)
    await deliveries.insert_many(
        [
            {"_id": f"d{i}", "state": "scheduled", "due_at": now - timedelta(seconds=i)}
            for i in (3, 9, 1)
        ]
    )
    order = []
    while item := await claim_due(
        deliveries, {"state": "scheduled"}, now=now, lease=timedelta(minutes=1), owner="x"
    ):
        order.append(item["_id"])
    assert order == ["d9", "d3", "d1"]


async def test_an_expired_claim_comes_back_and_a_held_one_does_not(mongo_db: Any) -> None:
    jobs = mongo_db["jobs"]
    now = datetime.now(UTC)
    await jobs.insert_one({"_id": "j1", "state": "due", "due_at": now})
    first = await claim_due(jobs, {"state": "due"}, now=now, lease=timedelta(seconds=30), owner="a")
    assert first is not None
    assert first["claimed_by"] == "a"
    assert (
        await claim_due(jobs, {"state": "due"}, now=now, lease=timedelta(seconds=30), owner="b")
        is None
    )
    later = now + timedelta(seconds=31)
    again = await claim_due(
        jobs, {"state": "due"}, now=later, lease=timedelta(seconds=30), owner="b"
    )
    assert again is not None
    assert again["claimed_by"] == "b"


async def test_concurrent_upserts_of_one_key_make_one_document(mongo_db: Any) -> None:
    read_model = mongo_db["client_routes"]

    async def upsert(i: int) -> None:
        await read_model.update_one(
            {"_id": "office-1:client-1"}, {"$max": {"version": i}}, upsert=True
        )

    outcomes = await race(RACERS, upsert)
    # MongoDB retries an upsert that lost the insert race on the _id index; none may surface.
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert await read_model.count_documents({}) == 1
    assert (await read_model.find_one({"_id": "office-1:client-1"}))["version"] == RACERS - 1


async def test_concurrent_upserts_on_a_unique_field_make_one_document(mongo_db: Any) -> None:
    inbox = mongo_db["inbox"]
    await inbox.create_index("event_id", unique=True)

    async def upsert(i: int) -> None:
        await inbox.update_one({"event_id": "e-1"}, {"$setOnInsert": {"first": i}}, upsert=True)

    outcomes = await race(RACERS, upsert)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(e, DuplicateKeyError) for e in errors), errors  # the loser's answer
    assert await inbox.count_documents({}) == 1


async def test_a_delete_one_is_done_by_exactly_one_of_racing_deleters(mongo_db: Any) -> None:
    tokens = mongo_db["tokens"]
    for round_ in range(ROUNDS):
        await tokens.insert_one({"_id": f"t{round_}", "hash": "h"})

        async def consume(i: int, key: str = f"t{round_}") -> int:
            return (await tokens.delete_one({"_id": key, "hash": "h"})).deleted_count

        outcomes = await race(RACERS, consume)
        assert sum(o for o in outcomes if isinstance(o, int)) == 1


async def test_a_lease_has_one_holder_until_it_runs_out(mongo_db: Any) -> None:
    now = [datetime.now(UTC)]
    leases = [
        Lease(mongo_db["leases"], "relay", ttl=timedelta(seconds=10), clock=lambda: now[0])
        for _ in range(RACERS)
    ]
    outcomes = await race(RACERS, lambda i: leases[i].hold())
    holders = [i for i, o in enumerate(outcomes) if o is True]
    assert len(holders) == 1, outcomes
    holder = leases[holders[0]]
    assert await holder.hold()  # renewing
    other = leases[(holders[0] + 1) % RACERS]
    assert not await other.hold()
    now[0] += timedelta(seconds=11)  # the holder stopped renewing
    assert await other.hold()
    assert not await holder.hold()
