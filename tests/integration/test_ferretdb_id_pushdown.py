"""Our FerretDB build pushes `_id` conditions down (portal_infra/ferretdb_patches.py): the answers
must be exactly MongoDB's, whatever else the filter says.

The patches only choose which rows SQLite reads first; FerretDB then filters every candidate with
the whole filter. These tests pin the cases where a wrong pushdown would show: an `_id` that
matches but another condition that does not, `$in` lists mixing types or naming missing ids,
ids that are not strings, and a compare-and-set on a stale version. How much faster it is lives
in bench/bench_ferretdb.py, not here.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

pytestmark = pytest.mark.integration


@pytest.fixture
async def clients(mongo_db: Any) -> Any:
    coll = mongo_db["clients"]
    await coll.insert_many(
        [
            {"_id": "c1", "version": 1, "office_id": "o1"},
            {"_id": "c2", "version": 2, "office_id": "o1"},
            {"_id": "c3", "version": 1, "office_id": "o2"},
            {"_id": 7, "version": 1, "office_id": "o1"},  # a non-string id is never pushed down
        ]
    )
    return coll


async def test_an_id_with_another_condition_matches_only_when_both_hold(clients: Any) -> None:
    assert await clients.find_one({"_id": "c1", "office_id": "o1"}) is not None
    assert await clients.find_one({"_id": "c1", "office_id": "o2"}) is None
    assert await clients.count_documents({"_id": "c3", "version": {"$gt": 0}}) == 1
    assert await clients.count_documents({"_id": "missing", "office_id": "o1"}) == 0


async def test_a_compare_and_set_on_a_stale_version_changes_nothing(clients: Any) -> None:
    stale = await clients.update_one({"_id": "c2", "version": 1}, {"$set": {"version": 3}})
    assert (stale.matched_count, stale.modified_count) == (0, 0)
    fresh = await clients.update_one({"_id": "c2", "version": 2}, {"$set": {"version": 3}})
    assert (fresh.matched_count, fresh.modified_count) == (1, 1)
    assert (await clients.find_one({"_id": "c2"}))["version"] == 3


async def test_in_lists_answer_exactly_their_ids(clients: Any) -> None:
    found = await clients.find({"_id": {"$in": ["c1", "c3", "missing"]}}).to_list()
    assert sorted(d["_id"] for d in found) == ["c1", "c3"]
    mixed = await clients.find({"_id": {"$in": ["c2", 7]}}).to_list()
    assert sorted(str(d["_id"]) for d in mixed) == ["7", "c2"]
    narrowed = await clients.find({"_id": {"$in": ["c1", "c3"]}, "office_id": "o2"}).to_list()
    assert [d["_id"] for d in narrowed] == ["c3"]
    assert await clients.count_documents({"_id": {"$in": []}}) == 0


async def test_deletes_by_id_and_by_id_list_remove_only_those(clients: Any) -> None:
    assert (await clients.delete_one({"_id": "c1", "office_id": "o2"})).deleted_count == 0
    assert (await clients.delete_many({"_id": {"$in": ["c1", "c3"]}})).deleted_count == 2
    assert sorted(str(d["_id"]) for d in await clients.find({}).to_list()) == ["7", "c2"]


async def test_object_ids_are_found_by_id_and_in_lists(mongo_db: Any) -> None:
    coll = mongo_db["documents"]
    a, b = ObjectId(), ObjectId()
    await coll.insert_many([{"_id": a, "n": 1}, {"_id": b, "n": 2}])
    assert (await coll.find_one({"_id": a}))["n"] == 1
    assert (await coll.find_one({"_id": b, "n": 1})) is None
    assert await coll.count_documents({"_id": {"$in": [a, b, ObjectId()]}}) == 2
