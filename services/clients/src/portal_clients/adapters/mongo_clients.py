"""Clients in MongoDB: one document per client (documents.py), its events in the outbox.

- A new client is one transaction: ``insert_one`` + ``Outbox.add`` (ClientCreated).
- An edit is one transaction: ``replace_one({_id, version: v})`` + ``Outbox.add``; no match
  means someone else wrote version v+1 first: StaleVersion (412 for the API, read again for
  an event handler).
- Uniqueness is the unique indexes' (E11000 names the index): ``email_unique``
  (``claims.email``, the whole platform), ``vat_unique`` (``claims.vat``, the whole platform:
  a company is a client of one office) and ``office_reference_unique`` (``office_id,
  reference_key``, partial: clients without a reference never collide). ``claims`` holds the
  client's e-mail and VAT number, and goes when an archived client's hold runs out
  (``release_claims``): the unique indexes are partial on it, so the values are free again.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING

from portal_clients.adapters.client_list import ClientLists, list_indexes
from portal_clients.adapters.documents import (
    HOLDER_PROJECTION,
    Document,
    from_document,
    holder_from_document,
    to_document,
)
from portal_clients.domain.errors import Conflict, FieldIssue, StaleVersion
from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client, with_current_states
from portal_clients.ports import Holder, RepublishedPage
from portal_contracts.clients import ClientState
from portal_servicekit.leases import claim_due
from portal_servicekit.mongo import Session, duplicate_index, is_duplicate_key
from portal_servicekit.runtime import Runtime

LOOKUP_BATCH = 1000  # values per $in
# A new client is counted for the list's fences one time in COUNT_EVERY, by COUNT_EVERY: the
# count only decides when fences are taken again, and an exact one would cost every add a second
# write (and a second disk sync); concurrent adds in one transaction would conflict on it.
COUNT_EVERY = 16
EMAIL_INDEX, VAT_INDEX, REFERENCE_INDEX = "email_unique", "vat_unique", "office_reference_unique"
EMAIL_TAKEN = Conflict("client.conflict", [FieldIssue("user.email", "email.taken")])
REFERENCE_TAKEN = Conflict(
    "client.conflict", [FieldIssue("company.internal_reference", "reference.taken")]
)


class MongoClients:
    def __init__(self, runtime: Runtime, lists: ClientLists) -> None:
        self.runtime = runtime
        self.clients = runtime.db["clients"]
        self.imports = runtime.db["imports"]
        self.lists = lists
        self.owner = secrets.token_hex(8)
        self._sample = random.Random()  # noqa: S311 - sampling a count, not a secret

    async def prepare(self) -> None:
        c = self.clients
        await self._claims_indexes()
        await c.create_index(
            [("office_id", ASCENDING), ("reference_key", ASCENDING)],
            unique=True,
            name=REFERENCE_INDEX,
            partialFilterExpression={"reference_key": {"$type": "string"}},
        )
        await c.create_index("due_at", partialFilterExpression={"due_at": {"$exists": True}})
        await c.create_index(
            "archived.claims_until",
            partialFilterExpression={"archived.claims_released": False},
        )
        for keys in list_indexes():
            await c.create_index(keys)

    async def _claims_indexes(self) -> None:
        """The unique indexes on ``claims``. A database made before archiving had them on the
        data fields: its clients get their ``claims`` first, then the old index is replaced by
        the new one of the same name. In that moment only the checks before a write hold the
        rule, and a service of the version before this one writes no ``claims``: migrate with
        the old version stopped (a deploy's ``Recreate``, not a rolling update)."""
        existing = await self.clients.index_information()
        for name, field, data_field in (
            (EMAIL_INDEX, "claims.email", "data.user.email"),
            (VAT_INDEX, "claims.vat", "data.company.vat_number"),
        ):
            if name in existing and existing[name]["key"] == [(data_field, 1)]:
                await self._claim_unclaimed()
                await self.clients.drop_index(name)
            await self.clients.create_index(
                field,
                unique=True,
                name=name,
                partialFilterExpression={field: {"$type": "string"}},
            )

    async def _claim_unclaimed(self) -> None:
        query = {"claims": {"$exists": False}, "archived": None}
        projection = {"data.user.email": 1, "data.company.vat_number": 1}
        async for doc in self.clients.find(query, projection):
            claims = {
                "email": doc["data"]["user"]["email"],
                "vat": doc["data"]["company"]["vat_number"],
            }
            await self.clients.update_one(
                {"_id": doc["_id"], "claims": {"$exists": False}}, {"$set": {"claims": claims}}
            )

    # --- reads ----------------------------------------------------------------------------------

    async def get(self, client_id: str) -> Client | None:
        doc = await self.clients.find_one({"_id": client_id})
        if doc is None or not await self._visible(doc):
            return None
        return from_document(doc)

    async def page(self, query: ClientQuery) -> ClientPage:
        return await self.lists.page(query)

    async def holders(self, emails: Sequence[str], vat_numbers: Sequence[str]) -> list[Holder]:
        found: dict[str, Holder] = {}
        for field, values in (("claims.email", emails), ("claims.vat", vat_numbers)):
            for batch in _batches(values):
                async for doc in self.clients.find({field: {"$in": batch}}, HOLDER_PROJECTION):
                    found[doc["_id"]] = holder_from_document(doc)
        return list(found.values())

    async def reference_holders(self, office_id: str, references: Sequence[str]) -> list[Holder]:
        found: list[Holder] = []
        for batch in _batches(references):
            query = {"office_id": office_id, "reference_key": {"$in": batch}}
            found += [
                holder_from_document(d) async for d in self.clients.find(query, HOLDER_PROJECTION)
            ]
        return found

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]:
        query = {"office_id": office_id, "data.group_id": group_id}
        return [doc["_id"] async for doc in self.clients.find(query, {"_id": 1})]

    async def due_recheck(self, now: datetime, lease: timedelta) -> Client | None:
        for _ in range(10):
            doc = await claim_due(self.clients, {}, now=now, lease=lease, owner=self.owner)
            if doc is None:
                return None
            if await self._visible(doc):  # else its import is not committed yet: later
                return from_document(doc)
        return None

    async def _visible(self, doc: Document) -> bool:
        key = doc.get("pending_import")
        if key is None:
            return True
        state = await self.imports.find_one({"_id": key}, {"state": 1})
        return state is not None and state["state"] == "committed"

    # --- writes ---------------------------------------------------------------------------------

    async def add(self, client: Client) -> None:
        document, events = to_document(client), with_current_states(client.pull_events())

        async def work(session: Session) -> None:
            await self.clients.insert_one(document, session=session)
            await self.runtime.outbox.add(events, session=session)

        try:
            await self.runtime.transaction(work)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
            raise await self.refusal(exc, client) from exc
        if self._sample.random() < 1 / COUNT_EVERY:
            await self.lists.counted(client.office_id, COUNT_EVERY)

    async def save(self, client: Client, based_on: int) -> None:
        document, events = to_document(client), with_current_states(client.pull_events())

        async def work(session: Session) -> bool:
            replaced = await self.clients.replace_one(
                {"_id": client.client_id, "version": based_on}, document, session=session
            )
            if replaced.matched_count == 0:
                return False
            await self.runtime.outbox.add(events, session=session)
            return True

        try:
            saved = await self.runtime.transaction(work)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
            raise await self.refusal(exc, client) from exc
        if not saved:
            current = await self.clients.find_one({"_id": client.client_id}, {"version": 1})
            raise StaleVersion(current["version"] if current else 0)

    async def release_claims(self, now: datetime) -> int:
        """Free the e-mail and VAT number of archived clients whose hold has run out (a new
        version: a save based on the old one is stale and reads it again)."""
        released = await self.clients.update_many(
            {"archived.claims_released": False, "archived.claims_until": {"$lte": now}},
            {
                "$set": {"archived.claims_released": True, "updated_at": now},
                "$unset": {"claims": ""},
                "$inc": {"version": 1},
            },
        )
        return released.modified_count

    async def republish_states(
        self, after: str | None, limit: int, *, office_id: str | None = None
    ) -> RepublishedPage:
        """One transaction per page: read the clients, mark each (a write), put their states in
        the outbox. The write is what orders this against a concurrent change: an edit committed
        after this page's snapshot makes the mark a write conflict (the page is read again, now
        with the edit), and an edit racing the mark conflicts and retries after this commit, so
        its outbox record comes after this one and the compacted topic ends with the newer."""
        query: Document = {} if after is None else {"_id": {"$gt": after}}
        if office_id is not None:
            query["office_id"] = office_id

        async def work(session: Session) -> RepublishedPage:
            found = self.clients.find(query, session=session).sort("_id", ASCENDING).limit(limit)
            docs = await found.to_list()
            if not docs:
                return RepublishedPage(None, 0)
            shown = [from_document(d) for d in docs if await self._visible(d)]
            if shown:
                ids = [c.client_id for c in shown]
                await self.clients.update_many(
                    {"_id": {"$in": ids}},
                    {"$set": {"state_republished_at": datetime.now(UTC)}},
                    session=session,
                )
                states = [ClientState.of(c.office_id, c.snapshot(), None) for c in shown]
                await self.runtime.outbox.add(states, session=session)
            return RepublishedPage(docs[-1]["_id"], len(shown))

        return await self.runtime.transaction(work)

    async def refusal(self, exc: BaseException, client: Client) -> Conflict:
        """The uniqueness rule a duplicate-key error broke, as the accountant reads it."""
        index = duplicate_index(exc)
        if index == EMAIL_INDEX:
            return EMAIL_TAKEN
        if index == REFERENCE_INDEX:
            return REFERENCE_TAKEN
        vat = client.data.company.vat_number
        holder = await self.clients.find_one({"claims.vat": vat}, {"office_id": 1})
        if holder is not None and holder["office_id"] != client.office_id:
            return Conflict(
                "company.on_platform", [FieldIssue("company.vat_number", "company.on_platform")]
            )
        return Conflict(
            "client.conflict", [FieldIssue("company.vat_number", "vat.taken_in_office")]
        )


def _batches(values: Sequence[Any]) -> list[list[Any]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + LOOKUP_BATCH] for i in range(0, len(unique), LOOKUP_BATCH)]
