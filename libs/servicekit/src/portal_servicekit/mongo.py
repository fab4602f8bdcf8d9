"""The MongoDB client (PyMongo's async API; Motor reached end of life in May 2026) and the
FerretDB differences an application has to handle."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteError

Document = dict[str, Any]


def connect(uri: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(uri, appname=app_name, serverSelectionTimeoutMS=10_000, tz_aware=True)


def is_duplicate_key(exc: BaseException) -> bool:
    """True for a unique-index violation, however the server reports it.

    MongoDB and FerretDB answer an insert that breaks a unique index with E11000. FerretDB 1.24 on
    SQLite may answer an *update* that breaks one with a generic error whose text names the
    SQLite constraint instead (pinned by tests/test_ferretdb_unique.py); treat both the same.
    """
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, WriteError | OperationFailure):
        if exc.code == 11000:
            return True
        text = str(exc).lower()
        return "e11000" in text or "unique constraint" in text or "duplicate key" in text
    return False


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")
