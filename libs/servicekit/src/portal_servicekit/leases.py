"""Leases and claims: who may do a piece of work now, decided by one atomic MongoDB write.

- :func:`claim_due` takes the next due item of a queue-like collection: ``find_one_and_update``
  on ``{…, due_at <= now}`` sorted by ``due_at``, pushing ``due_at`` one lease ahead. Of racing
  workers exactly one gets each item; an item whose worker died becomes due again when its lease
  runs out. The same call serves the delivery scheduler, the invitation sender and VAT re-checks.
- :class:`Lease` is a named lease (one holder at a time, e.g. the outbox relay of a service run
  as several replicas): an upsert that matches only a free or own lease, so a second candidate
  hits the ``_id`` index and gets E11000.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from portal_servicekit.mongo import Document, Session, is_duplicate_key

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def claim_due(
    collection: AsyncCollection[Document],
    match: Mapping[str, Any],
    *,
    now: datetime,
    lease: timedelta,
    owner: str,
    extra: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> Document | None:
    """The next item matching ``match`` whose ``due_at`` has come, claimed for ``lease``.

    Returns the item as written (``due_at`` = the end of the lease, ``claimed_by`` = ``owner``,
    plus ``extra`` fields), or None when nothing is due. Needs an index on the fields of ``match``
    followed by ``due_at``.
    """
    return await collection.find_one_and_update(
        {**match, "due_at": {"$lte": now}},
        {"$set": {"due_at": now + lease, "claimed_by": owner, **(extra or {})}},
        sort=[("due_at", 1)],
        return_document=ReturnDocument.AFTER,
        session=session,
    )


class Lease:
    """A named lease in ``collection``: ``await lease.hold()`` is True while this holder has it."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        name: str,
        *,
        ttl: timedelta = timedelta(seconds=10),
        clock: Clock = utc_now,
    ) -> None:
        self.collection = collection
        self.name = name
        self.ttl = ttl
        self.clock = clock
        self.owner = secrets.token_hex(8)

    async def hold(self) -> bool:
        """Take or renew the lease; False while another holder's lease runs."""
        now = self.clock()
        try:
            await self.collection.update_one(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "until": now + self.ttl}},
                upsert=True,
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False  # the lease exists, held by someone else, and has not run out
            raise
        return True

    async def release(self) -> None:
        await self.collection.delete_one({"_id": self.name, "owner": self.owner})
