"""The client list: filters, sort orders, opaque cursors, and the page of summaries it returns.

Pagination is keyset-based: a cursor holds the sort order, the last row's sort value and its client
id (the tie-breaker), so pages stay stable while clients are added and no ``skip`` is ever needed.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import heapq
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from operator import itemgetter

from portal_contracts.clients import VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode

MAX_PAGE = 200


class SortKey(StrEnum):
    COMPANY_NAME = "company_name"
    CREATED_AT = "created_at"
    INTERNAL_REFERENCE = "internal_reference"
    EMAIL = "email"


class InvalidCursor(ValueError):
    """A cursor that was not issued for this sort order, or was tampered with."""


@dataclass(frozen=True)
class Cursor:
    sort: SortKey
    descending: bool
    value: str
    client_id: str

    def encode(self) -> str:
        raw = json.dumps([self.sort.value, self.descending, self.value, self.client_id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort, descending, value, client_id = json.loads(raw)
            return cls(SortKey(sort), bool(descending), str(value), str(client_id))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise InvalidCursor(text) from exc


@dataclass(frozen=True)
class ClientSummary:
    """One line of the client list."""

    client_id: str
    company_name: str
    vat_number: str
    internal_reference: str | None
    email: str
    first_name: str
    last_name: str
    status: ClientStatus
    group_id: str
    subscription_mode: SubscriptionMode
    vat_check: VatCheck
    version: int
    created_at: datetime

    # Computed once per summary: a list request sorts and searches thousands of them.
    @cached_property
    def _name_key(self) -> str:
        return self.company_name.casefold()

    @cached_property
    def _reference_key(self) -> str:
        return (self.internal_reference or "").casefold()

    @cached_property
    def _created_key(self) -> str:
        return self.created_at.isoformat()

    def sort_value(self, sort: SortKey) -> str:
        if sort is SortKey.COMPANY_NAME:
            return self._name_key
        if sort is SortKey.CREATED_AT:
            return self._created_key
        if sort is SortKey.INTERNAL_REFERENCE:
            return self._reference_key
        return self.email


@dataclass(frozen=True)
class ClientQuery:
    office_id: str
    visible_groups: frozenset[str] | None = None  # None: every group (an admin)
    status: ClientStatus | None = None
    group_id: str | None = None
    subscription_mode: SubscriptionMode | None = None
    text: str | None = None
    sort: SortKey = SortKey.COMPANY_NAME
    descending: bool = False
    limit: int = 50
    after: Cursor | None = None

    def __post_init__(self) -> None:
        if self.after is not None and (
            self.after.sort is not self.sort or self.after.descending != self.descending
        ):
            raise InvalidCursor("cursor issued for another sort order")
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")

    def search_terms(self) -> tuple[str, str] | None:
        """(case-folded text, compact form for VAT numbers), or None without a search."""
        if not self.text or not self.text.strip():
            return None
        folded = self.text.strip().casefold()
        return folded, re.sub(r"[\s.\-/]", "", folded).upper()

    def matches(self, row: ClientSummary) -> bool:
        if self.visible_groups is not None and row.group_id not in self.visible_groups:
            return False
        if self.status is not None and row.status is not self.status:
            return False
        if self.group_id is not None and row.group_id != self.group_id:
            return False
        if (
            self.subscription_mode is not None
            and row.subscription_mode is not self.subscription_mode
        ):
            return False
        terms = self.search_terms()
        if terms is not None:
            folded, compact = terms
            found = (
                folded in row.sort_value(SortKey.COMPANY_NAME)
                or folded in row.sort_value(SortKey.INTERNAL_REFERENCE)
                or folded in row.email
                or (bool(compact) and compact in row.vat_number)
            )
            if not found:
                return False
        return True


@dataclass(frozen=True)
class ClientPage:
    items: list[ClientSummary]
    next_cursor: str | None


def page_of(rows: Iterable[ClientSummary], query: ClientQuery) -> ClientPage:
    """Filter, order and cut one page from summaries held in memory (keeps only limit + 1)."""
    mark = (query.after.value, query.after.client_id) if query.after is not None else None
    keyed: list[tuple[tuple[str, str], ClientSummary]] = []
    for row in rows:
        if not query.matches(row):
            continue
        key = (row.sort_value(query.sort), row.client_id)
        if mark is not None and (key <= mark if not query.descending else key >= mark):
            continue
        keyed.append((key, row))
    pick = heapq.nlargest if query.descending else heapq.nsmallest
    first = pick(query.limit + 1, keyed, key=itemgetter(0))
    return finish_page([row for _, row in first], query)


def page_from_index(
    index: Sequence[tuple[str, str]], rows: Mapping[str, ClientSummary], query: ClientQuery
) -> ClientPage:
    """One page from an index kept sorted by (sort value, client id) for ``query.sort``.

    Starts at the cursor (binary search) and walks only as far as it takes to fill the page, so a
    first page of 10,000 clients reads about ``limit`` rows, not 10,000.
    """
    mark = (query.after.value, query.after.client_id) if query.after is not None else None
    if query.descending:
        end = bisect.bisect_left(index, mark) if mark is not None else len(index)
        positions: Iterable[int] = range(end - 1, -1, -1)
    else:
        start = bisect.bisect_right(index, mark) if mark is not None else 0
        positions = range(start, len(index))
    picked: list[ClientSummary] = []
    for position in positions:
        row = rows[index[position][1]]
        if query.matches(row):
            picked.append(row)
            if len(picked) > query.limit:
                break
    return finish_page(picked, query)


def finish_page(rows: list[ClientSummary], query: ClientQuery) -> ClientPage:
    """``rows`` are already ordered and hold at most limit + 1 rows (the extra one says "more")."""
    items = rows[: query.limit]
    if len(rows) <= query.limit or not items:
        return ClientPage(items, None)
    last = items[-1]
    cursor = Cursor(query.sort, query.descending, last.sort_value(query.sort), last.client_id)
    return ClientPage(items, cursor.encode())
