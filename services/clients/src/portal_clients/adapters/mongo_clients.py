"""Clients in MongoDB (FerretDB): one document per client, its events in the same write.

Every write of a client is either an insert (atomic, checked by the unique indexes) or a
replace made while holding the client's lease (see locks.py), so no two writers interleave.

Before a write that carries events, a *marker* (``outbox_markers/<id>``) is inserted; the relay
scans that small collection instead of the whole clients collection (FerretDB 1.24 pushes down no
filter except ``{_id: value}``, so any other query reads every document). A marker whose write
never landed is dropped by the relay after a grace period; an event whose marker is gone has been
published and is trimmed from the outbox by the next writer.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_clients.adapters.client_list import ClientListCache, ClientListLog, summary_to_json
from portal_clients.adapters.documents import (
    Document,
    from_document,
    outbox_entry,
    summary_of,
    to_document,
)
from portal_clients.adapters.import_states import ImportStates
from portal_clients.adapters.locks import Leases
from portal_clients.adapters.vat_claims import VatClaims
from portal_clients.domain.errors import Conflict, FieldIssue
from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client
from portal_servicekit.mongo import is_duplicate_key

EMAIL_TAKEN = FieldIssue("user.email", "email.taken")
REFERENCE_TAKEN = FieldIssue("company.internal_reference", "reference.taken")


def new_marker_id(client_id: str, version: int) -> str:
    return f"c:{client_id}:{version}:{secrets.token_hex(4)}"


class MongoClients:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        leases: Leases | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clients = db["clients"]
        self.imports = ImportStates(db["imports"])
        self.list_log = ClientListLog(db)
        self.list_cache = ClientListCache(db, self.list_log, self.imports)
        self.markers = db["outbox_markers"]
        self.landed = db["outbox_landed"]
        self.vats = VatClaims(db["company_vats"], self.clients, clock=clock)
        self.leases = leases or Leases(db["locks"], clock=clock)
        self.clock = clock

    async def ensure_indexes(self) -> None:
        await self.clients.create_index("data.user.email", unique=True, name="email_unique")
        await self.clients.create_index(
            [("office_id", ASCENDING), ("reference_key", ASCENDING)],
            unique=True,
            name="office_reference_unique",
        )
        await self.clients.create_index(
            [("office_id", ASCENDING), ("data.company.vat_number", ASCENDING)],
            unique=True,
            name="office_vat_unique",
        )
        await self.clients.create_index("import_ref")
        # One index per list filter and sort order (used by MongoDB; FerretDB 1.24 scans).
        for key in ("status", "data.group_id", "data.company.subscription_mode"):
            await self.clients.create_index(
                [("office_id", ASCENDING), ("visible", ASCENDING), (key, ASCENDING)]
            )
        for sort in ("company_name", "created_at", "internal_reference", "email"):
            await self.clients.create_index(
                [
                    ("office_id", ASCENDING),
                    ("visible", ASCENDING),
                    (f"sort.{sort}", ASCENDING),
                    ("_id", ASCENDING),
                ]
            )
        await self.markers.create_index("created_at")

    # --- reads ----------------------------------------------------------------------------------

    async def get(self, client_id: str) -> Client | None:
        """A visible client, any office (the caller checks tenancy; ``_id`` alone is pushed down)."""
        doc = await self.clients.find_one({"_id": client_id})
        if doc is None or not await self.imports.visible(doc):
            return None
        return from_document(doc)

    async def page(self, query: ClientQuery) -> ClientPage:
        return await self.list_cache.page(query)

    async def taken_emails(self, emails: list[str]) -> set[str]:
        """Which of these e-mails are already used (by any office, imported or not).

        One pass over the e-mails of every client, intersected here: FerretDB reads the whole
        collection for any filter anyway, and evaluating ``$in`` with thousands of values on
        each document costs more than sending the addresses.
        """
        wanted = set(emails)
        if not wanted:
            return set()
        cursor = self.clients.find({}, {"data.user.email": 1, "_id": 0})
        return {doc["data"]["user"]["email"] async for doc in cursor} & wanted

    async def vat_owners(self, vats: list[str]) -> dict[str, str]:
        return await self.vats.owners(vats)

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]:
        cursor = self.clients.find({"office_id": office_id, "data.group_id": group_id}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    # --- writes ---------------------------------------------------------------------------------

    async def add(self, client: Client, *, vat_claimed: bool = False) -> None:
        """Insert a new client with its ClientCreated; Conflict when a uniqueness rule refuses.

        ``vat_claimed``: the caller already holds the company's claim (see claim_vat).
        """
        vat = client.data.company.vat_number
        if not vat_claimed:
            await self.vats.claim(vat, client.office_id, client.client_id)
        events = client.pull_events()
        marker = new_marker_id(client.client_id, client.version)
        document = to_document(client)
        document["outbox"] = [outbox_entry(e, marker) for e in events]
        marker_doc = await self._insert_marker(marker, client, document["outbox"])
        try:
            await self.clients.insert_one(document)
        except DuplicateKeyError as exc:
            await self.markers.delete_one({"_id": marker})
            await self.vats.release(vat, client.client_id)
            raise await self._which_conflict(client, exc) from exc
        await self._landed(marker_doc)
        self.list_cache.note(client.office_id, summary_of(client))

    async def claim_vat(self, vat: str, office_id: str, client_id: str) -> None:
        await self.vats.claim(vat, office_id, client_id)

    async def release_vat(self, vat: str, client_id: str) -> None:
        await self.vats.release(vat, client_id)

    @contextlib.asynccontextmanager
    async def edit(self, client_id: str) -> AsyncIterator[Client | None]:
        """Load a visible client as its only writer; on a clean exit, save what it recorded."""
        async with self.leases.hold(f"client:{client_id}"):
            before = await self.clients.find_one({"_id": client_id})
            if before is None or not await self.imports.visible(before):
                yield None
                return
            client = from_document(before)
            yield client
            if client.events:
                await self._replace(before, client)

    async def _replace(self, before: Document, client: Client) -> None:
        events = client.pull_events()
        marker = new_marker_id(client.client_id, client.version)
        old_vat = before["data"]["company"]["vat_number"]
        new_vat = client.data.company.vat_number
        if new_vat != old_vat:
            await self.vats.claim(new_vat, client.office_id, client.client_id)
        # Visible from now on without asking its import (edit() only loads visible clients).
        document = to_document(client, visible=True, import_ref=before.get("import_ref", ""))
        kept = await self._unpublished(before.get("outbox", []))
        new_entries = [outbox_entry(e, marker) for e in events]
        document["outbox"] = kept + new_entries
        marker_doc = await self._insert_marker(marker, client, new_entries)
        try:
            await self.clients.replace_one({"_id": client.client_id}, document)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
            await self.markers.delete_one({"_id": marker})
            if new_vat != old_vat:
                await self.vats.release(new_vat, client.client_id)
            raise await self._which_conflict(client, exc) from exc
        await self._landed(marker_doc)
        if new_vat != old_vat:
            await self.vats.release(old_vat, client.client_id)
        self.list_cache.note(client.office_id, summary_of(client))

    async def _unpublished(self, entries: list[Document]) -> list[Document]:
        """Outbox entries whose marker still exists (the others were published)."""
        kept: list[Document] = []
        alive: dict[str, bool] = {}
        for entry in entries:
            marker = entry.get("marker", "")
            if marker not in alive:
                alive[marker] = await self.markers.find_one({"_id": marker}) is not None
            if alive[marker]:
                kept.append(entry)
        return kept

    async def _insert_marker(
        self, marker: str, client: Client, entries: list[Document]
    ) -> Document:
        """Before the write: what the relay will publish once the write is known to have landed
        (a copy of the outbox entries and the list line, so the relay need not read the client:
        FerretDB finds a document by id by reading the collection up to it)."""
        doc: Document = {
            "_id": marker,
            "kind": "client",
            "client_id": client.client_id,
            "office_id": client.office_id,
            "version": client.version,
            "entries": entries,
            "summary": summary_to_json(summary_of(client)),
            "created_at": self.clock(),
        }
        await self.markers.insert_one(dict(doc))
        return doc

    async def _landed(self, marker: Document) -> None:
        """After the write: the marker's events may go out. A writer that dies before this leaves
        the relay to check the client itself once the marker is older than its grace period.

        A writer stalled past that grace period may find its marker dropped (the relay saw no
        event in the client yet): it puts the marker back, so the events still go out.
        """
        await self.landed.insert_one({"_id": marker["_id"]})
        if await self.markers.find_one({"_id": marker["_id"]}, {"_id": 1}) is None:
            await self.markers.insert_one({**marker, "created_at": self.clock()})

    async def _which_conflict(self, client: Client, exc: BaseException) -> Conflict:
        text = str(exc)
        if "email" in text:
            return Conflict("client.conflict", [EMAIL_TAKEN])
        if "reference" in text:
            return Conflict("client.conflict", [REFERENCE_TAKEN])
        # An insert's E11000 does not name the index on FerretDB: look (on this error path only).
        owner = await self.clients.find_one({"data.user.email": client.data.user.email}, {"_id": 1})
        if owner is not None and owner["_id"] != client.client_id:
            return Conflict("client.conflict", [EMAIL_TAKEN])
        if client.data.company.internal_reference:
            return Conflict("client.conflict", [REFERENCE_TAKEN])
        return Conflict(
            "client.conflict", [FieldIssue("company.vat_number", "vat.taken_in_office")]
        )


def mongo_filter(query: ClientQuery) -> dict[str, Any]:
    """The list query as one MongoDB filter, each key covered by an index on MongoDB.

    The service does not run it (FerretDB 1.24 answers it by reading every client; see
    client_list.py); the benchmark does, to show what the in-memory list saves. It leaves out
    imported clients that were not edited since their import.
    """
    clauses: list[dict[str, Any]] = [{"office_id": query.office_id}, {"visible": True}]
    if query.visible_groups is not None:
        clauses.append({"data.group_id": {"$in": sorted(query.visible_groups)}})
    if query.status is not None:
        clauses.append({"status": query.status.value})
    if query.group_id is not None:
        clauses.append({"data.group_id": query.group_id})
    if query.subscription_mode is not None:
        clauses.append({"data.company.subscription_mode": query.subscription_mode.value})
    terms = query.search_terms()
    if terms is not None:
        folded, compact = terms
        options = [{"search": {"$regex": re.escape(folded)}}]
        if compact:
            options.append({"data.company.vat_number": {"$regex": re.escape(compact)}})
        clauses.append({"$or": options})
    if query.after is not None:
        op = "$lt" if query.descending else "$gt"
        field = f"sort.{query.sort.value}"
        clauses.append(
            {
                "$or": [
                    {field: {op: query.after.value}},
                    {field: query.after.value, "_id": {op: query.after.client_id}},
                ]
            }
        )
    return {"$and": clauses}
