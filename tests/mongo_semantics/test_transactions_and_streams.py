"""Multi-document transactions (all or nothing, isolated, conflicts retried), change streams, and
TTL indexes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure

from portal_servicekit.mongo import in_transaction
from tests.mongo_semantics.conftest import race

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(mongodb_uri: str) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
def db(client: Any, database_name: str) -> Any:
    return client[database_name]


async def test_a_transaction_commits_every_write_together(client: Any, db: Any) -> None:
    await db.create_collection("clients")
    await db.create_collection("outbox")

    async def work(session: Any) -> str:
        await db["clients"].insert_one({"_id": "c1", "version": 1}, session=session)
        await db["outbox"].insert_one({"_id": "e1", "about": "c1"}, session=session)
        # Not visible outside the transaction before it commits.
        assert await db["clients"].find_one({"_id": "c1"}) is None
        return "done"

    assert await in_transaction(client, work) == "done"
    assert await db["clients"].count_documents({}) == 1
    assert await db["outbox"].count_documents({}) == 1


async def test_a_failing_transaction_leaves_nothing(client: Any, db: Any) -> None:
    clients = db["clients"]
    await clients.create_index("email", unique=True)
    await clients.insert_one({"_id": "old", "email": "info@acme.be"})
    await db.create_collection("outbox")

    async def import_all(session: Any) -> None:
        await clients.insert_one({"_id": "c1", "email": "new@acme.be"}, session=session)
        await db["outbox"].insert_one({"_id": "e1"}, session=session)
        await clients.insert_one({"_id": "c2", "email": "info@acme.be"}, session=session)

    with pytest.raises(DuplicateKeyError):
        await in_transaction(client, import_all)
    assert await clients.count_documents({}) == 1
    assert await db["outbox"].count_documents({}) == 0


async def test_an_explicit_abort_discards_the_writes(client: Any, db: Any) -> None:
    await db.create_collection("clients")
    async with client.start_session() as session:
        await session.start_transaction()
        await db["clients"].insert_one({"_id": "c1"}, session=session)
        await session.abort_transaction()
    assert await db["clients"].count_documents({}) == 0


async def test_conflicting_transactions_are_retried_until_each_applied_once(
    client: Any, db: Any
) -> None:
    counters = db["counters"]
    await counters.insert_one({"_id": "k", "n": 0, "seen": []})

    async def add(i: int) -> None:
        async def work(session: Any) -> None:
            doc = await counters.find_one({"_id": "k"}, session=session)
            await counters.update_one(
                {"_id": "k"},
                {"$set": {"n": doc["n"] + 1}, "$push": {"seen": i}},
                session=session,
            )

        await in_transaction(client, work)

    outcomes = await race(10, add)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    doc = await counters.find_one({"_id": "k"})
    assert doc["n"] == 10
    assert sorted(doc["seen"]) == list(range(10))


async def test_a_write_conflict_is_labelled_transient(client: Any, db: Any) -> None:
    await db["docs"].insert_one({"_id": "d", "n": 0})
    async with client.start_session() as first, client.start_session() as second:
        await first.start_transaction()
        await second.start_transaction()
        await db["docs"].update_one({"_id": "d"}, {"$inc": {"n": 1}}, session=first)
        with pytest.raises(OperationFailure) as caught:
            await db["docs"].update_one({"_id": "d"}, {"$inc": {"n": 1}}, session=second)
        assert caught.value.has_error_label("TransientTransactionError")
        await second.abort_transaction()
        await first.commit_transaction()
    assert (await db["docs"].find_one({"_id": "d"}))["n"] == 1


async def test_a_change_stream_sees_committed_inserts_and_resumes(db: Any) -> None:
    outbox = db["outbox"]
    await db.create_collection("outbox")
    async with await outbox.watch([{"$match": {"operationType": "insert"}}]) as stream:
        await outbox.insert_one({"_id": "e1"})
        change = await asyncio.wait_for(stream.next(), timeout=10)
        assert change["documentKey"] == {"_id": "e1"}
        token = stream.resume_token
    await outbox.insert_one({"_id": "e2"})
    async with await outbox.watch(resume_after=token) as resumed:
        change = await asyncio.wait_for(resumed.next(), timeout=10)
        assert change["documentKey"] == {"_id": "e2"}


async def test_a_ttl_index_removes_expired_documents(client: Any, db: Any) -> None:
    """What expires (accept-attempt counters, leases of the past) is removed by the server.

    MongoDB's TTL monitor runs every 60 s; where the server allows it, the test asks for 1 s.
    """
    with pytest.MonkeyPatch.context():
        try:
            await client.admin.command({"setParameter": 1, "ttlMonitorSleepSecs": 1})
        except OperationFailure:
            pass  # the default period applies: the wait below allows for it
    attempts = db["accept_attempts"]
    await attempts.create_index("expires_at", expireAfterSeconds=0)
    past = datetime.now(UTC) - timedelta(minutes=1)
    await attempts.insert_many(
        [{"_id": "old", "expires_at": past}, {"_id": "new", "expires_at": past + timedelta(days=1)}]
    )
    deadline = asyncio.get_running_loop().time() + 130
    while await attempts.count_documents({"_id": "old"}):
        assert asyncio.get_running_loop().time() < deadline, "TTL monitor never removed it"
        await asyncio.sleep(0.5)
    assert await attempts.count_documents({"_id": "new"}) == 1
