"""Client access in MongoDB: one document per client (collection ``client_access``), saved with
its version in the filter and its events in the same transaction (servicekit's outbox).

Indexes and the rules they keep:
- ``_id`` = client id: one document per client; storing a client twice fails with E11000.
- ``due_at`` (partial: only documents that have it): the send queue. ``due_at`` is set while an
  invitation waits for its e-mail (when it is due) and while an attempt is under way (when its
  lease ends), and absent otherwise, so the queue holds only what the sender has to do.
- ``invitation.token_hashes``: acceptance finds the client by the SHA-256 of its link.

A write of several documents (a batch of outcomes, a claim) is one ``bulk_write`` of replaces
filtered on ``{_id, version}``; a replace that matches nothing lost to a concurrent writer. Each
written document carries a random ``write`` id, so reading the ids back tells which replaces
won when not all of them did.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from portal_contracts.envelope import Envelope
from portal_invitations.adapters.documents import from_document, to_document
from portal_invitations.adapters.event_mapping import to_envelope
from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import Conflict
from portal_servicekit.mongo import Session, is_duplicate_key
from portal_servicekit.runtime import Runtime

Document = dict[str, Any]

ACCESS = "client_access"


def _envelopes(accesses: Sequence[ClientAccess]) -> list[Envelope[Any]]:
    return [to_envelope(event) for access in accesses for event in access.events]


class MongoClientAccess:
    """Implements both ClientAccessRepository and InvitationsToSend."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.collection: AsyncCollection[Document] = runtime.db[ACCESS]

    async def create_indexes(self) -> None:
        await self.collection.create_index(
            [("due_at", ASCENDING)], partialFilterExpression={"due_at": {"$exists": True}}
        )
        await self.collection.create_index([("invitation.token_hashes", ASCENDING)])

    # --- reading ---------------------------------------------------------------------------

    async def get(self, client_id: str) -> ClientAccess | None:
        doc = await self.collection.find_one({"_id": client_id})
        return from_document(doc) if doc else None

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        cursor = self.collection.find({"_id": {"$in": list(dict.fromkeys(client_ids))}})
        return {doc["_id"]: from_document(doc) async for doc in cursor}

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        doc = await self.collection.find_one({"invitation.token_hashes": token_hash})
        return from_document(doc) if doc else None

    # --- writing ---------------------------------------------------------------------------

    async def save(self, access: ClientAccess) -> None:
        if access.version == 0:
            await self._insert(access)
        elif await self.save_many([access]):
            raise Conflict(access.client_id)

    async def save_many(self, accesses: Sequence[ClientAccess]) -> set[str]:
        if not accesses:
            return set()
        write = secrets.token_hex(8)
        docs = {a.client_id: {**to_document(a, a.version + 1), "write": write} for a in accesses}
        replaces = [
            ReplaceOne({"_id": a.client_id, "version": a.version}, docs[a.client_id])
            for a in accesses
        ]
        announced = {a.client_id: _envelopes([a]) for a in accesses}

        async def work(session: Session | None) -> set[str]:
            result = await self.collection.bulk_write(replaces, ordered=False, session=session)
            lost: set[str] = set()
            if result.matched_count < len(replaces):
                cursor = self.collection.find(
                    {"_id": {"$in": list(docs)}}, {"write": 1}, session=session
                )
                won = {doc["_id"] async for doc in cursor if doc.get("write") == write}
                lost = set(docs) - won
            events = [e for c, es in announced.items() if c not in lost for e in es]
            if events:
                await self.runtime.outbox.add(events, session=session)
            return lost

        # The documents and their events commit together; without events each replace is
        # atomic on its own and the transaction would add nothing.
        if any(announced.values()):
            lost = await self.runtime.transaction(work)
        else:
            lost = await work(None)
        for access in accesses:
            if access.client_id not in lost:
                access.version += 1
                access.events.clear()
        return lost

    async def add_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        """One ``insert_many`` (unordered: E11000 = already stored) for those without events;
        those with events are inserted with them, one transaction each."""
        quiet = [a for a in accesses if not a.events]
        taken: set[str] = set()
        if quiet:
            try:
                await self.collection.insert_many([to_document(a, 1) for a in quiet], ordered=False)
            except BulkWriteError as exc:
                if not is_duplicate_key(exc):
                    raise
                taken = {quiet[e["index"]].client_id for e in exc.details["writeErrors"]}
        for access in quiet:
            if access.client_id not in taken:
                access.version = 1
        for access in accesses:
            if access.events:
                try:
                    await self._insert(access)
                except Conflict:
                    taken.add(access.client_id)
        return [a for a in accesses if a.client_id in taken]

    async def _insert(self, access: ClientAccess) -> None:
        events = _envelopes([access])

        async def work(session: Session) -> None:
            await self.collection.insert_one(to_document(access, 1), session=session)
            if events:
                await self.runtime.outbox.add(events, session=session)

        try:
            await self.runtime.transaction(work)
        except Exception as exc:
            if is_duplicate_key(exc):
                raise Conflict(access.client_id) from exc
            raise
        access.version = 1
        access.events.clear()

    # --- the send queue ----------------------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> list[ClientAccess]:
        cursor = self.collection.find({"due_at": {"$lte": now}}).sort("due_at", 1).limit(limit)
        return [from_document(doc) async for doc in cursor]

    async def claim(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        lost = await self.save_many(accesses)
        return [a for a in accesses if a.client_id not in lost]

    async def postpone(self, office_id: str, now: datetime, until: datetime) -> None:
        await self.collection.update_many(
            {"office_id": office_id, "due_at": {"$lte": now}}, {"$set": {"due_at": until}}
        )
