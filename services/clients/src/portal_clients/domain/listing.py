"""The client list: filters, sort orders, opaque cursors, and the page of summaries it returns.

Pagination is keyset-based: a cursor holds the sort order, the last row's sort value and its client
id (the tie-breaker), so pages stay stable while clients are added and no ``skip`` is ever needed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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

    def sort_value(self, sort: SortKey) -> str:
        if sort is SortKey.COMPANY_NAME:
            return self.company_name.casefold()
        if sort is SortKey.CREATED_AT:
            return self.created_at.isoformat()
        if sort is SortKey.INTERNAL_REFERENCE:
            return (self.internal_reference or "").casefold()
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
                folded in row.company_name.casefold()
                or folded in (row.internal_reference or "").casefold()
                or folded in row.email
                or (bool(compact) and compact in row.vat_number)
            )
            if not found:
                return False
        return True

    def is_after_cursor(self, row: ClientSummary) -> bool:
        if self.after is None:
            return True
        key = (row.sort_value(self.sort), row.client_id)
        mark = (self.after.value, self.after.client_id)
        return key < mark if self.descending else key > mark


@dataclass(frozen=True)
class ClientPage:
    items: list[ClientSummary]
    next_cursor: str | None


def page_of(rows: Iterable[ClientSummary], query: ClientQuery) -> ClientPage:
    """Filter, order and cut one page from summaries held in memory."""
    kept = [r for r in rows if query.matches(r) and query.is_after_cursor(r)]
    kept.sort(key=lambda r: (r.sort_value(query.sort), r.client_id), reverse=query.descending)
    return finish_page(kept[: query.limit + 1], query)


def finish_page(rows: list[ClientSummary], query: ClientQuery) -> ClientPage:
    """``rows`` are already ordered and hold at most limit + 1 rows (the extra one says "more")."""
    items = rows[: query.limit]
    if len(rows) <= query.limit or not items:
        return ClientPage(items, None)
    last = items[-1]
    cursor = Cursor(query.sort, query.descending, last.sort_value(query.sort), last.client_id)
    return ClientPage(items, cursor.encode())
