"""The client list: one indexed query per window of the sort order, keyset pages.

Every sort order has its own key (``sort.<order>`` = "<office>␟<value>␟<client id>", unique and
scoped to the office) and indexes: ``sort.<order>`` alone, and ``(office_id, status,
sort.<order>)`` and ``(office_id, data.group_id, sort.<order>)`` for the equality filters.
A page is ``find(filter, sort.<order> in a window).sort(sort.<order>).limit(limit + 1)``.

Why windows: MongoDB stops an index scan at the limit, but the local server (SecantusDB)
reads the whole index range a filter names and sorts it before applying the limit (about
7 µs per client: 0.7 s for an office of 100,000). So each query names a bounded range of the
sort order: ``client_lists/<office>`` keeps every 500th sort key of the office ("fences"), and
a page reads from its cursor to the next fence, then twice as far, and so on until it has
limit + 1 rows or the office ends. On MongoDB the windows cost nothing (each stops at the
limit); here they make a page cost about one window (~500 clients) whatever the office's size.
Fences only tune the cost: a missing or old fence never changes what a page holds.

The document also counts the office's clients (``$inc`` after each creation) and remembers
how many there were when the fences were taken; when the office has grown by a quarter the
next list request has them taken again in the background (one read of the office's sort keys,
under a servicekit Lease so one process does it). A text search is read through the ``search``
index instead (its cost grows with the clients its words match, see the README).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from portal_clients.adapters.documents import SUMMARY_PROJECTION, Document, summary_from_document
from portal_clients.domain.listing import (
    SEP,
    ClientPage,
    ClientQuery,
    SortKey,
    finish_page,
    search_terms,
)
from portal_servicekit.leases import Lease
from portal_servicekit.mongo import Session, is_duplicate_key
from portal_servicekit.outbox import LEASES

logger = logging.getLogger(__name__)

FENCE_EVERY = 500
REFENCE_LEASE = timedelta(minutes=2)


def list_indexes() -> list[list[tuple[str, int]]]:
    """The list's indexes on ``clients`` (see the module docstring)."""
    keys: list[list[tuple[str, int]]] = [[("search", 1)]]
    for sort in SortKey:
        field = f"sort.{sort.value}"
        keys += [[(field, 1)], [("office_id", 1), ("status", 1), (field, 1)]]
        keys.append([("office_id", 1), ("data.group_id", 1), (field, 1)])
    return keys


class ClientLists:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.clients = db["clients"]
        self.lists = db["client_lists"]
        self.leases = db[LEASES]
        self._refencing: dict[str, asyncio.Task[None]] = {}

    # --- counting (called by the writers) ------------------------------------------------------

    async def counted(self, office_id: str, added: int, *, session: Session | None = None) -> None:
        for _ in range(3):  # two first writers of an office may both try the upsert
            try:
                await self.lists.update_one(
                    {"_id": office_id}, {"$inc": {"clients": added}}, upsert=True, session=session
                )
                return
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise

    async def importing(self, office_id: str, key: str, *, session: Session) -> None:
        """Clients of import ``key`` are being stored in several transactions: leave them out."""
        await self.lists.update_one(
            {"_id": office_id}, {"$addToSet": {"importing": key}}, session=session
        )

    async def imported(self, office_id: str, key: str, added: int, *, session: Session) -> None:
        await self.lists.update_one(
            {"_id": office_id},
            {"$pull": {"importing": key}, "$inc": {"clients": added}},
            session=session,
        )

    # --- pages ---------------------------------------------------------------------------------

    async def page(self, query: ClientQuery) -> ClientPage:
        meta = await self.lists.find_one({"_id": query.office_id}) or {}
        self._refence_if_stale(query.office_id, meta)
        field = f"sort.{query.sort.value}"
        direction = DESCENDING if query.descending else 1
        wanted = query.limit + 1
        rows: list[Document] = []
        terms = search_terms(query.text)
        fences = [] if terms else meta.get("fences", {}).get(query.sort.value, [])
        for window in _windows(fences, query):
            found = self.clients.find(
                self._filter(query, meta.get("importing", []), terms, window), SUMMARY_PROJECTION
            )
            rows += await found.sort(field, direction).limit(wanted - len(rows)).to_list()
            if len(rows) >= wanted:
                break
        return finish_page([summary_from_document(d) for d in rows], query)

    def _filter(
        self, query: ClientQuery, importing: list[str], terms: list[str], window: Document
    ) -> Document:
        office = query.office_id
        # The first condition is the one to read by: the window of the sort order, or the
        # search's most telling word. (With several candidate conditions the local server
        # reads by the first indexed one; MongoDB plans either way.)
        first: Document
        if terms:
            first = {"search": _prefix(office, terms[0])}
        else:
            first = {}
        conditions: Document = {**first, f"sort.{query.sort.value}": window, "office_id": office}
        if query.statuses is not None:
            statuses = sorted(s.value for s in query.statuses)
            conditions["status"] = statuses[0] if len(statuses) == 1 else {"$in": statuses}
        groups = query.groups
        if groups is not None:
            ordered = sorted(groups)
            conditions["data.group_id"] = ordered[0] if len(ordered) == 1 else {"$in": ordered}
        if query.subscription_mode is not None:
            conditions["data.company.subscription_mode"] = query.subscription_mode.value
        if query.transfer_method is not None:  # rides the sort window: no index of its own
            conditions["data.integration.target.kind"] = query.transfer_method.value
        # The lists never show an archived client; the archive view shows only them.
        conditions["archived"] = {"$ne": None} if query.archived else None
        if importing:
            conditions["pending_import"] = {"$nin": importing}
        if len(terms) > 1:
            conditions["$and"] = [{"search": _prefix(office, t)} for t in terms[1:]]
        return conditions

    # --- fences --------------------------------------------------------------------------------

    def _refence_if_stale(self, office_id: str, meta: Document) -> None:
        clients, fenced = meta.get("clients", 0), meta.get("fenced", 0)
        if clients < 2 * FENCE_EVERY or clients <= fenced * 1.25 + FENCE_EVERY // 2:
            return
        if office_id not in self._refencing:
            task = asyncio.create_task(self._refence(office_id), name=f"refence-{office_id}")
            self._refencing[office_id] = task
            task.add_done_callback(lambda _: self._refencing.pop(office_id, None))

    async def refence(self, office_id: str) -> bool:
        """Take the office's fences again (False: another process is doing it)."""
        lease = Lease(self.leases, f"clients-list-fences:{office_id}", ttl=REFENCE_LEASE)
        if not await lease.hold():
            return False
        try:
            keys: dict[str, list[str]] = {sort.value: [] for sort in SortKey}
            async for doc in self.clients.find({"office_id": office_id}, {"sort": 1, "_id": 0}):
                for sort, values in keys.items():
                    values.append(doc["sort"][sort])
            count = len(keys[SortKey.COMPANY_NAME.value])
            fences = {s: sorted(values)[FENCE_EVERY::FENCE_EVERY] for s, values in keys.items()}
            await self.lists.update_one(
                {"_id": office_id},
                {
                    "$set": {"fences": fences, "fenced": count, "fenced_at": datetime.now(UTC)},
                    "$max": {"clients": count},
                },
                upsert=True,
            )
        finally:
            await lease.release()
        return True

    async def _refence(self, office_id: str) -> None:
        try:
            await self.refence(office_id)
        except Exception:
            logger.exception("taking the list fences of office %s failed", office_id)

    async def close(self) -> None:
        for task in list(self._refencing.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _prefix(office_id: str, term: str) -> Document:
    start = f"{office_id}{SEP}{term}"
    return {"$elemMatch": {"$gte": start, "$lt": start + "\U0010ffff"}}


def _windows(fences: list[str], query: ClientQuery) -> Iterator[Document]:
    """Ranges of the sort order from the cursor on, one fence wide, then doubling."""
    office_start, office_end = query.office_id + SEP, query.office_id + chr(ord(SEP) + 1)
    after = query.after.after if query.after is not None else None
    if query.descending:
        edges = fences[: bisect.bisect_left(fences, after)] if after else fences
        edges = edges[::-1]
        low, high = ("$gte", "$lt")
        start, end = after or office_end, office_start
    else:
        edges = fences[bisect.bisect_right(fences, after) :] if after else fences
        low, high = ("$gt", "$lte")
        start, end = after or office_start, office_end
    position, width = 0, 1
    while True:
        edge_at = position + width - 1
        edge = edges[edge_at] if edge_at < len(edges) else None
        bounds: dict[str, Any]
        if query.descending:
            bounds = {high: start, low: edge if edge is not None else end}
        else:
            bounds = {low: start, high: edge if edge is not None else end}
        yield bounds
        if edge is None:
            return
        start, position, width = edge, position + width, width * 2
