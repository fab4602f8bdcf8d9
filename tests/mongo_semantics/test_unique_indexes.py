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


# --- a value an update gives up is free (SecantusDB needed secantus_patches/0001 for these) ----

FREEING_WRITES = {
    "update_one $set": lambda c: c.update_one({"_id": "a"}, {"$set": {"email": "new@acme.be"}}),
    "update_many $set": lambda c: c.update_many({"_id": "a"}, {"$set": {"email": "new@acme.be"}}),
    "replace_one": lambda c: c.replace_one({"_id": "a"}, {"email": "new@acme.be"}),
    "find_one_and_update": lambda c: c.find_one_and_update(
        {"_id": "a"}, {"$set": {"email": "new@acme.be"}}
    ),
    "bulk_write": lambda c: c.bulk_write([UpdateOne({"_id": "a"}, {"$set": {"email": "x@y.be"}})]),
    "$unset": lambda c: c.update_one({"_id": "a"}, {"$unset": {"email": ""}}),
}


@pytest.mark.parametrize("write", sorted(FREEING_WRITES))
async def test_a_value_an_update_gives_up_can_be_taken_and_the_new_one_is_held(
    users: Any, write: str
) -> None:
    """A client changes its e-mail: the old address is free for another client at once, and
    the new one is refused to others (both are MongoDB's behaviour)."""
    await FREEING_WRITES[write](users)
    await users.insert_one({"_id": "c", "email": "info@acme.be"})  # the freed value
    current = (await users.find_one({"_id": "a"})) or {}
    if "email" in current:
        with pytest.raises(DuplicateKeyError) as caught:
            await users.insert_one({"_id": "d", "email": current["email"]})
        _names_the_index(caught.value)
    with pytest.raises(DuplicateKeyError):
        await users.update_one({"_id": "b"}, {"$set": {"email": "info@acme.be"}})


async def test_a_document_leaving_a_partial_unique_index_frees_its_value(mongo_db: Any) -> None:
    """An archived client's hold ends: its claim field goes, and its values are free."""
    clients = mongo_db["clients"]
    await clients.create_index(
        "claims.vat",
        unique=True,
        name="vat_unique",
        partialFilterExpression={"claims.vat": {"$type": "string"}},
    )
    await clients.insert_one({"_id": "old", "claims": {"vat": "BE0403170701"}})
    with pytest.raises(DuplicateKeyError):
        await clients.insert_one({"_id": "new", "claims": {"vat": "BE0403170701"}})
    await clients.update_many({"_id": "old"}, {"$unset": {"claims": ""}})
    await clients.insert_one({"_id": "new", "claims": {"vat": "BE0403170701"}})
    with pytest.raises(DuplicateKeyError):  # and coming back, the old one finds it taken
        await clients.update_one({"_id": "old"}, {"$set": {"claims": {"vat": "BE0403170701"}}})


async def test_racing_for_a_value_an_update_takes_has_one_winner(mongo_db: Any) -> None:
    """One document moves to a value while another is inserted with it: exactly one wins."""
    import asyncio

    users = mongo_db["racers"]
    await users.create_index("email", unique=True, name=INDEX)
    for round_ in range(20):
        wanted = f"r{round_}@acme.be"
        await users.insert_one({"_id": f"m{round_}", "email": f"before{round_}@acme.be"})
        moved, inserted = await asyncio.gather(
            users.update_one({"_id": f"m{round_}"}, {"$set": {"email": wanted}}),
            users.insert_one({"_id": f"i{round_}", "email": wanted}),
            return_exceptions=True,
        )
        outcomes = [not isinstance(r, BaseException) for r in (moved, inserted)]
        assert outcomes.count(True) == 1, (moved, inserted)
        assert await users.count_documents({"email": wanted}) == 1
