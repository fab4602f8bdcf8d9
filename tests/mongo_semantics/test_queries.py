"""Queries: secondary indexes are used (``explain`` shows an index scan, not a collection scan),
keyset pages come back in index order, and array operators behave as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.mongo_semantics.conftest import winning_plan_stages

pytestmark = pytest.mark.integration

N = 2_000


@pytest.fixture
async def clients(mongo_db: Any) -> Any:
    clients = mongo_db["clients"]
    await clients.create_index("email", unique=True)
    await clients.create_index([("office_id", 1), ("status", 1), ("name", 1), ("_id", 1)])
    await clients.insert_many(
        [
            {
                "_id": f"c{i:05d}",
                "office_id": f"o{i % 4}",
                "status": ("active", "inactive", "not_invited")[i % 3],
                "name": f"Company {i % 997:04d}",
                "email": f"user{i}@example.be",
            }
            for i in range(N)
        ]
    )
    return clients


async def test_a_find_by_an_indexed_field_uses_the_index(clients: Any) -> None:
    explained = await clients.find({"email": "user1234@example.be"}).explain()
    stages = winning_plan_stages(explained)
    assert "IXSCAN" in stages or "IDHACK" in stages or "EXPRESS_IXSCAN" in stages, stages
    assert "COLLSCAN" not in stages
    assert await clients.find_one({"email": "user1234@example.be"}) is not None


async def test_a_filtered_sorted_page_is_read_from_the_compound_index(clients: Any) -> None:
    query = {"office_id": "o1", "status": "active"}
    cursor = clients.find(query).sort([("name", 1), ("_id", 1)]).limit(50)
    stages = winning_plan_stages(await cursor.explain())
    assert "IXSCAN" in stages, stages
    assert "SORT" not in stages, stages  # the order is the index's
    assert "COLLSCAN" not in stages, stages


async def test_keyset_pages_follow_the_sort_without_gaps_or_repeats(clients: Any) -> None:
    query: dict[str, Any] = {"office_id": "o2", "status": "inactive"}
    expected = [d["_id"] async for d in clients.find(query).sort([("name", 1), ("_id", 1)])]
    seen: list[str] = []
    after: tuple[str, str] | None = None
    while True:
        page_filter = dict(query)
        if after is not None:
            page_filter["$or"] = [
                {"name": {"$gt": after[0]}},
                {"name": after[0], "_id": {"$gt": after[1]}},
            ]
        page = await clients.find(page_filter).sort([("name", 1), ("_id", 1)]).limit(37).to_list()
        if not page:
            break
        seen += [d["_id"] for d in page]
        after = (page[-1]["name"], page[-1]["_id"])
    assert seen == expected
    assert len(seen) == len(set(seen)) > 100


async def test_in_queries_and_count_use_the_index(clients: Any) -> None:
    wanted = [f"user{i}@example.be" for i in range(0, N, 7)] + ["nobody@example.be"]
    found = {d["email"] async for d in clients.find({"email": {"$in": wanted}}, {"email": 1})}
    assert found == set(wanted[:-1])
    stages = winning_plan_stages(await clients.find({"email": {"$in": wanted}}).explain())
    assert "COLLSCAN" not in stages, stages


async def test_array_operators(mongo_db: Any) -> None:
    accesses = mongo_db["accesses"]
    await accesses.insert_one(
        {
            "_id": "c1",
            "event_ids": ["e1", "e2"],
            "attempts": [
                {"n": 1, "outcome": "retry", "code": 421},
                {"n": 2, "outcome": "retry", "code": 451},
            ],
            "matrix": [[1, 2], [3, 4]],  # nested arrays are stored and read back
        }
    )
    await accesses.update_one(
        {"_id": "c1"},
        {"$push": {"event_ids": {"$each": ["e3", "e4", "e5"], "$slice": -3}}},
    )
    await accesses.update_one({"_id": "c1"}, {"$addToSet": {"event_ids": "e5"}})
    await accesses.update_one({"_id": "c1"}, {"$pull": {"attempts": {"code": {"$gte": 450}}}})
    await accesses.update_one(
        {"_id": "c1", "attempts.n": 1}, {"$set": {"attempts.$.outcome": "sent"}}
    )
    await accesses.update_one(
        {"_id": "c1"},
        {"$set": {"matrix.$[row].$[cell]": 0}},
        array_filters=[{"row": {"$type": "array"}}, {"cell": {"$gt": 2}}],
    )
    doc = await accesses.find_one({"_id": "c1"})
    assert doc["event_ids"] == ["e3", "e4", "e5"]
    assert doc["attempts"] == [{"n": 1, "outcome": "sent", "code": 421}]
    assert doc["matrix"] == [[1, 2], [0, 0]]
    assert (
        await accesses.count_documents({"attempts": {"$elemMatch": {"n": 1, "outcome": "sent"}}})
        == 1
    )


async def test_dates_come_back_as_aware_utc_with_millisecond_precision(mongo_db: Any) -> None:
    moment = datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=UTC)
    await mongo_db["times"].insert_one({"_id": 1, "at": moment})
    found = await mongo_db["times"].find_one({"at": {"$gte": moment - timedelta(milliseconds=1)}})
    assert found is not None
    assert found["at"].replace(tzinfo=UTC) == moment.replace(microsecond=123000)
