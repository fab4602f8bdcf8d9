"""A unique index refuses a duplicate on every write path with E11000 naming the index, and the
write changes nothing; a partial unique index applies only to the documents it covers."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from portal_servicekit.mongo import DUPLICATE_KEY, duplicate_index, is_duplicate_key

pytestmark = pytest.mark.integration

INDEX = "email_unique"


@pytest.fixture
async def users(mongo_db: Any) -> Any:
    users = mongo_db["users"]
    await users.create_index("email", unique=True, name=INDEX)
    await users.insert_many(
        [{"_id": "a", "email": "info@acme.be"}, {"_id": "b", "email": "boekhouding@acme.be"}]
    )
    return users


async def _unchanged(users: Any) -> None:
    assert {d["_id"]: d["email"] async for d in users.find({})} == {
        "a": "info@acme.be",
        "b": "boekhouding@acme.be",
    }


def _names_the_index(exc: BaseException) -> None:
    assert is_duplicate_key(exc)
    assert duplicate_index(exc) == INDEX, str(exc)


async def test_insert_one(users: Any) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        await users.insert_one({"_id": "c", "email": "info@acme.be"})
    assert caught.value.code == DUPLICATE_KEY
    _names_the_index(caught.value)
    assert caught.value.details["keyValue"] == {"email": "info@acme.be"}
    await _unchanged(users)


async def test_insert_many_ordered_stops_at_the_duplicate(users: Any) -> None:
    with pytest.raises(BulkWriteError) as caught:
        await users.insert_many(
            [{"_id": "c", "email": "new@acme.be"}, {"_id": "d", "email": "info@acme.be"}]
        )
    errors = caught.value.details["writeErrors"]
    assert [(e["index"], e["code"]) for e in errors] == [(1, DUPLICATE_KEY)]
    _names_the_index(caught.value)
    assert await users.count_documents({"_id": "c"}) == 1  # not a transaction: the first stays


async def test_update_one_set(users: Any) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        await users.update_one({"_id": "b"}, {"$set": {"email": "info@acme.be"}})
    assert caught.value.code == DUPLICATE_KEY
    _names_the_index(caught.value)
    await _unchanged(users)


async def test_replace_one(users: Any) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        await users.replace_one({"_id": "b"}, {"email": "info@acme.be"})
    _names_the_index(caught.value)
    await _unchanged(users)


async def test_find_one_and_update(users: Any) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        await users.find_one_and_update({"_id": "b"}, {"$set": {"email": "info@acme.be"}})
    _names_the_index(caught.value)
    await _unchanged(users)


async def test_upsert_that_inserts(users: Any) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        await users.update_one({"_id": "c"}, {"$set": {"email": "info@acme.be"}}, upsert=True)
    _names_the_index(caught.value)
    await _unchanged(users)


async def test_bulk_write(users: Any) -> None:
    with pytest.raises(BulkWriteError) as caught:
        await users.bulk_write(
            [
                UpdateOne({"_id": "b"}, {"$set": {"email": "info@acme.be"}}),
                InsertOne({"_id": "c", "email": "boekhouding@acme.be"}),
            ],
            ordered=False,
        )
    assert [e["code"] for e in caught.value.details["writeErrors"]] == [DUPLICATE_KEY] * 2
    _names_the_index(caught.value)
    await _unchanged(users)


async def test_a_partial_unique_index_covers_only_its_documents(mongo_db: Any) -> None:
    clients = mongo_db["clients"]
    # The internal reference is unique per office, and optional: empty ones never collide.
    await clients.create_index(
        [("office_id", 1), ("reference", 1)],
        unique=True,
        name="office_reference_unique",
        partialFilterExpression={"reference": {"$gt": ""}},
    )
    await clients.insert_many(
        [
            {"_id": "1", "office_id": "o1", "reference": ""},
            {"_id": "2", "office_id": "o1", "reference": ""},
            {"_id": "3", "office_id": "o1", "reference": "K-7"},
            {"_id": "4", "office_id": "o2", "reference": "K-7"},
        ]
    )
    with pytest.raises(DuplicateKeyError) as caught:
        await clients.insert_one({"_id": "5", "office_id": "o1", "reference": "K-7"})
    assert duplicate_index(caught.value) == "office_reference_unique"
    with pytest.raises(DuplicateKeyError):
        await clients.update_one({"_id": "1"}, {"$set": {"reference": "K-7"}})
    assert await clients.count_documents({}) == 4


async def test_a_compound_unique_index_scopes_uniqueness(mongo_db: Any) -> None:
    clients = mongo_db["clients"]
    await clients.create_index([("office_id", 1), ("vat", 1)], unique=True, name="office_vat")
    await clients.insert_one({"office_id": "o1", "vat": "BE0123456749"})
    await clients.insert_one({"office_id": "o2", "vat": "BE0123456749"})
    with pytest.raises(DuplicateKeyError) as caught:
        await clients.insert_one({"office_id": "o1", "vat": "BE0123456749"})
    assert duplicate_index(caught.value) == "office_vat"
