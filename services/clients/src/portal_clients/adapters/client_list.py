"""The client list served from memory, kept fresh by a per-office change log read by key.

Why: FerretDB 1.24 (SQLite) pushes no filter down except ``{_id: value}``, so a list query over
an office of 10,000 clients reads every client document (about a second) whatever the indexes.
The list instead comes from an in-memory copy of the office's client summaries, loaded once per
process by one scan, then kept current by reading the office's change log *by key*:

- ``client_list_log/<office>:<seq>`` holds the summaries of clients written at step ``seq``.
  Appending is an insert of the next key, so two writers can never take the same step (the
  insert of an existing key fails, the writer tries the next one).
- A reader that knows the office up to step ``n`` asks for ``<office>:<n+1>`` (one lookup by
  ``_id``, a few milliseconds); found, it applies it and asks for the next one.

The outbox relay appends every client whose events it relays (one entry per office per pass), so
the log follows the same marker that guarantees the events: nothing written is left out of the
lists, even when its writer died right after the write. A summary older than the one held (a
lower version) is ignored, so replays and reordering are harmless. The process that made a write
also applies it to its own copy at once (read-your-writes); other processes see it once relayed,
a fraction of a second later. A copy older than ``reload_after`` is rebuilt from a fresh scan.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_clients.adapters.documents import SUMMARY_PROJECTION, summary_from_document
from portal_clients.adapters.import_states import ImportStates
from portal_clients.domain.listing import (
    ClientPage,
    ClientQuery,
    ClientSummary,
    SortKey,
    page_from_index,
)
from portal_contracts.clients import VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode

Document = dict[str, Any]
ENTRY_SIZE = 500  # summaries per log entry (an import appends thousands at once)


def _key(office_id: str, seq: int) -> str:
    return f"{office_id}:{seq:012d}"


def summary_to_json(row: ClientSummary) -> Document:
    # Field by field, not dataclasses.asdict: its deep copy was a tenth of an import's CPU.
    return {
        "client_id": row.client_id,
        "company_name": row.company_name,
        "vat_number": row.vat_number,
        "internal_reference": row.internal_reference,
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "status": row.status.value,
        "group_id": row.group_id,
        "subscription_mode": row.subscription_mode.value,
        "vat_check": row.vat_check.value,
        "version": row.version,
        "created_at": row.created_at,
    }


def summary_from_json(data: Document) -> ClientSummary:
    created = data["created_at"]
    return ClientSummary(
        **{
            **data,
            "status": ClientStatus(data["status"]),
            "subscription_mode": SubscriptionMode(data["subscription_mode"]),
            "vat_check": VatCheck(data["vat_check"]),
            "created_at": created if created.tzinfo else created.replace(tzinfo=UTC),
        }
    )


class ClientListLog:
    """Appends to an office's change log (the writer's side)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.log = db["client_list_log"]
        self.hints = db["client_list_hint"]
        self._last: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def append(self, office_id: str, rows: list[ClientSummary]) -> None:
        # One appender per office in this process: concurrent requests would otherwise all try
        # the same next step and retry one by one (each try is a disk write).
        async with self._locks.setdefault(office_id, asyncio.Lock()):
            for start in range(0, len(rows), ENTRY_SIZE):
                await self._append_one(office_id, rows[start : start + ENTRY_SIZE])

    async def _append_one(self, office_id: str, rows: list[ClientSummary]) -> None:
        seq = self._last.get(office_id)
        if seq is None:
            seq = await self.last_seq(office_id)
        while True:
            seq += 1
            try:
                await self.log.insert_one(
                    {
                        "_id": _key(office_id, seq),
                        "rows": [summary_to_json(r) for r in rows],
                        "at": datetime.now(UTC),
                    }
                )
                break
            except DuplicateKeyError:
                continue  # another writer took this step: try the next one
        self._last[office_id] = seq
        if seq % 50 == 0:
            # A lower bound for newcomers' search; a lost update only makes it older.
            await self.hints.replace_one({"_id": office_id}, {"seq": seq}, upsert=True)

    async def trim(self, older_than: datetime) -> int:
        """Forget steps older than every copy still in use (copies reload after an hour)."""
        result = await self.log.delete_many({"at": {"$lt": older_than}})
        return result.deleted_count

    async def last_seq(self, office_id: str) -> int:
        """The last step taken: galloping then binary search by key from the hint."""
        hint = await self.hints.find_one({"_id": office_id})
        low = hint["seq"] if hint else 0  # known to exist (or 0: nothing yet)
        step = 1
        high = low + step
        while await self._exists(office_id, high):
            low, step = high, step * 2
            high = low + step
        while high - low > 1:  # low exists, high does not
            middle = (low + high) // 2
            if await self._exists(office_id, middle):
                low = middle
            else:
                high = middle
        return low

    async def _exists(self, office_id: str, seq: int) -> bool:
        return await self.log.find_one({"_id": _key(office_id, seq)}, {"_id": 1}) is not None


@dataclass
class _OfficeCopy:
    """One office's summaries, with one index per sort order kept sorted as rows change."""

    seq: int
    rows: dict[str, ClientSummary] = field(default_factory=dict)
    orders: dict[SortKey, list[tuple[str, str]]] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.monotonic)
    checked_at: float = field(default_factory=time.monotonic)  # last look at the log
    refreshing: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def build(self, rows: list[ClientSummary]) -> None:
        for row in rows:
            held = self.rows.get(row.client_id)
            if held is None or held.version <= row.version:
                self.rows[row.client_id] = row
        self.orders = {
            sort: sorted((r.sort_value(sort), r.client_id) for r in self.rows.values())
            for sort in SortKey
        }

    def apply(self, row: ClientSummary) -> None:
        held = self.rows.get(row.client_id)
        if held is not None and held.version > row.version:
            return  # an older summary, replayed or late
        for sort, index in self.orders.items():
            if held is not None:
                old = (held.sort_value(sort), held.client_id)
                position = bisect.bisect_left(index, old)
                if position < len(index) and index[position] == old:
                    del index[position]
            bisect.insort(index, (row.sort_value(sort), row.client_id))
        self.rows[row.client_id] = row

    def page(self, query: ClientQuery) -> ClientPage:
        return page_from_index(self.orders[query.sort], self.rows, query)


class ClientListCache:
    """The reader's side: pages of an office's clients from memory, caught up by key."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        log: ClientListLog,
        imports: ImportStates,
        *,
        reload_after_s: float = 3600.0,
        refresh_s: float = 0.5,
        wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = db["clients"]
        self.log = log
        self.imports = imports
        self.reload_after_s = reload_after_s
        self.refresh_s = refresh_s
        self.wait_s = wait_s
        self.clock = clock
        self._offices: dict[str, _OfficeCopy] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._reloads: dict[str, asyncio.Task[None]] = {}

    def note(self, office_id: str, row: ClientSummary) -> None:
        """This process's own write: seen by its next list at once (the relay logs it for all)."""
        copy = self._offices.get(office_id)
        if copy is not None:
            copy.apply(row)

    async def page(self, query: ClientQuery) -> ClientPage:
        copy = await self._fresh(query.office_id)
        return copy.page(query)

    async def _fresh(self, office_id: str) -> _OfficeCopy:
        """The office's copy, caught up with the log as the request can afford.

        Asking the log is a lookup that FerretDB answers by reading the whole log collection
        when the key is absent (the usual answer), so it is asked at most every ``refresh_s``:
        a request arriving sooner is served at once; one arriving later than ``wait_s`` after the
        last look waits for it (a view older than that is not served); in between, the catch-up
        runs in the background and the request is served from the copy as it is.
        """
        copy = self._offices.get(office_id)
        if copy is None:
            copy = await self._load(office_id)
        elif self.clock() - copy.loaded_at > self.reload_after_s and office_id not in self._reloads:
            # Rebuilt in the background; the log keeps two hours, so the old copy stays exact.
            self._reloads[office_id] = asyncio.create_task(self._reload(office_id))
        age = self.clock() - copy.checked_at
        if age >= self.wait_s:
            await self._catch_up(office_id, copy)
        elif age >= self.refresh_s and copy.refreshing is None:
            copy.refreshing = asyncio.create_task(self._catch_up(office_id, copy))
        return copy

    async def _catch_up(self, office_id: str, copy: _OfficeCopy) -> None:
        try:
            async with copy.lock:
                started = self.clock()
                while True:
                    entry = await self.log.log.find_one({"_id": _key(office_id, copy.seq + 1)})
                    if entry is None:
                        break
                    for data in entry["rows"]:
                        copy.apply(summary_from_json(data))
                    copy.seq += 1
                copy.checked_at = started
        finally:
            copy.refreshing = None

    async def _reload(self, office_id: str) -> None:
        try:
            await self._load(office_id, replace=True)  # readers use the old copy meanwhile
        finally:
            self._reloads.pop(office_id, None)

    async def _load(self, office_id: str, *, replace: bool = False) -> _OfficeCopy:
        lock = self._loading.setdefault(office_id, asyncio.Lock())
        async with lock:
            held = self._offices.get(office_id)
            if held is not None and not replace:
                return held  # another request loaded it meanwhile
            # The step is read BEFORE the scan: changes made during the scan are replayed after.
            started = self.clock()
            seq = await self.log.last_seq(office_id)
            copy = _OfficeCopy(seq=seq, loaded_at=started, checked_at=started)
            projection = {**SUMMARY_PROJECTION, "visible": 1, "import_ref": 1}
            cursor = self.clients.find({"office_id": office_id}, projection)
            copy.build(
                [summary_from_document(d) async for d in cursor if await self.imports.visible(d)]
            )
            self._offices[office_id] = copy
            return copy
