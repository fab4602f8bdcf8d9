"""(d) What the application sees from FerretDB's unique indexes, pinned down.

An insert that breaks a unique index answers E11000 (DuplicateKeyError), as on MongoDB. An UPDATE
that breaks one comes back from FerretDB 1.24/SQLite as a generic OperationFailure (code 1, "UNIQUE
constraint failed"); servicekit.mongo.is_duplicate_key treats both as a duplicate, and the
document is left unchanged. If FerretDB starts answering E11000 here, these tests say so.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError, OperationFailure

from portal_servicekit.mongo import is_duplicate_key

pytestmark = pytest.mark.integration


async def test_a_duplicate_insert_is_refused_with_e11000(mongo_db: Any) -> None:
    users = mongo_db["users"]
    await users.create_index("email", unique=True)
    await users.insert_one({"_id": "a", "email": "info@acme.be"})
    with pytest.raises(DuplicateKeyError) as caught:
        await users.insert_one({"_id": "b", "email": "info@acme.be"})
    assert caught.value.code == 11000
    assert is_duplicate_key(caught.value)
    assert await users.count_documents({}) == 1


async def test_an_update_that_breaks_a_unique_index_is_refused_and_changes_nothing(
    mongo_db: Any,
) -> None:
    users = mongo_db["users"]
    await users.create_index("email", unique=True)
    await users.insert_many(
        [{"_id": "a", "email": "info@acme.be"}, {"_id": "b", "email": "info+shop2@acme.be"}]
    )
    with pytest.raises(OperationFailure) as caught:
        await users.update_one({"_id": "b"}, {"$set": {"email": "info@acme.be"}})
    # What FerretDB 1.24 answers (MongoDB would answer code 11000): pinned so a change is noticed.
    assert caught.value.code in (1, 11000)
    assert is_duplicate_key(caught.value)
    assert (await users.find_one({"_id": "b"}))["email"] == "info+shop2@acme.be"


async def test_a_compound_unique_index_scopes_uniqueness(mongo_db: Any) -> None:
    clients = mongo_db["clients"]
    await clients.create_index([("office_id", 1), ("reference", 1)], unique=True)
    await clients.insert_one({"office_id": "o1", "reference": "C-1"})
    await clients.insert_one({"office_id": "o2", "reference": "C-1"})  # another office: fine
    with pytest.raises(DuplicateKeyError):
        await clients.insert_one({"office_id": "o1", "reference": "C-1"})


async def test_plus_addressing_gives_distinct_addresses(mongo_db: Any) -> None:
    users = mongo_db["users"]
    await users.create_index("email", unique=True)
    await users.insert_one({"email": "info@gmail.com"})
    await users.insert_one({"email": "info+shop2@gmail.com"})
    await users.insert_one({"email": "i.nfo@gmail.com"})
    assert await users.count_documents({}) == 3
