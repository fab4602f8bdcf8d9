"""The MongoDB client (PyMongo's async API; Motor reached end of life in May 2026), transactions,
and reading a duplicate-key error.

Storage is written to MongoDB 8's documented semantics: a conditional update is atomic, a unique
index refuses a duplicate on every write path with E11000 naming the index, and a multi-document
transaction commits all its writes or none. The local server keeps those promises too
(tests/mongo_semantics/ proves each one against it and against any ``MONGODB_URI``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.read_concern import ReadConcern

Document = dict[str, Any]
Session = AsyncClientSession
T = TypeVar("T")

DUPLICATE_KEY = 11000
_INDEX_IN_MESSAGE = re.compile(r"index: (\S+) dup key")


def connect(uri: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(uri, appname=app_name, serverSelectionTimeoutMS=10_000, tz_aware=True)


def is_duplicate_key(exc: BaseException) -> bool:
    """True for a unique-index violation (E11000), of a single write or of every write of a bulk."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
    return isinstance(exc, OperationFailure) and exc.code == DUPLICATE_KEY


def duplicate_index(exc: BaseException) -> str | None:
    """The name of the unique index a duplicate-key error names (MongoDB's ``errmsg``)."""
    details = getattr(exc, "details", None) or {}
    errors = details.get("writeErrors") or [details]
    for error in errors:
        found = _INDEX_IN_MESSAGE.search(str(error.get("errmsg", "")))
        if found:
            return found.group(1)
    found = _INDEX_IN_MESSAGE.search(str(exc))
    return found.group(1) if found else None


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[Session], Awaitable[T]]
) -> T:
    """Run ``work`` in one multi-document transaction and return what it returned.

    PyMongo's ``with_transaction`` runs ``work`` again on a TransientTransactionError (a write
    conflict with a concurrent transaction) and retries an unknown commit result, for up to two
    minutes; ``work`` must therefore only write through its session and decide again from what
    it reads. Majority write and snapshot read concern: what MongoDB recommends for transactions.
    """
    async with client.start_session() as session:
        return await session.with_transaction(
            work,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )
