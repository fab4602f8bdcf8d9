"""The client list: filters, sort orders, opaque cursors, the page it returns, and the keys a
client is listed and found by (computed here, so every store sorts and searches alike).

- A **sort key** is ``<office>␟<value>␟<client id>`` (␟ = U+001F): unique, so a page ends at one
  exact key and the next page starts after it (keyset paging, never ``skip``); scoped to the
  office by its prefix.
- **Search words** are the normalised words of the company name, the internal reference, the
  e-mail and the VAT number (with and without its country code and leading zero), each
  prefixed by the office. A query matches when each of its words is the beginning of one of
  them: "peet" finds "Bakkerij Peeters"; "0403.170.701", "BE 0403 170 701" and "403170701"
  find BE0403170701.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from portal_clients.domain.invitation import ClientInvitation
from portal_contracts.clients import VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode, TransferMethod

MAX_PAGE = 200
SEP = "\x1f"
MAX_TERMS = 5
_COMPACT = re.compile(r"[\s.\-/]")
_VAT_LIKE = re.compile(r"[a-z]{0,2}\d{6,}")


class SortKey(StrEnum):
    COMPANY_NAME = "company_name"
    CREATED_AT = "created_at"
    INTERNAL_REFERENCE = "internal_reference"
    EMAIL = "email"


class InvalidCursor(ValueError):
    """A cursor that was not issued for this office and sort order, or was tampered with."""


def fold(text: str) -> str:
    """Case-folded, accents removed, spaces collapsed: how names compare and are searched."""
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(folded.split())


def compact(text: str) -> str:
    return _COMPACT.sub("", text)


@dataclass(frozen=True)
class Cursor:
    sort: SortKey
    descending: bool
    after: str  # the sort key of the last row of the previous page

    def encode(self) -> str:
        raw = json.dumps([self.sort.value, self.descending, self.after])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort, descending, after = json.loads(raw)
            return cls(SortKey(sort), bool(descending), str(after))
        except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
            # RecursionError: JSON nested thousands deep (a forged cursor) was a 500
            raise InvalidCursor(text) from exc


@dataclass(frozen=True)
class ClientSummary:
    """One line of the client list."""

    client_id: str
    office_id: str
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
    invitation: ClientInvitation | None = None
    transfer_method: TransferMethod = TransferMethod.MANUAL
    archived_at: datetime | None = None
    vat_check_reason: str | None = None  # the register refused: why (a message code)
    vat_check_detail: str | None = None  # ... in the register's words

    def sort_value(self, sort: SortKey) -> str:
        if sort is SortKey.COMPANY_NAME:
            value = fold(self.company_name)
        elif sort is SortKey.CREATED_AT:
            value = self.created_at.astimezone(UTC).isoformat(timespec="milliseconds")
        elif sort is SortKey.INTERNAL_REFERENCE:
            value = fold(self.internal_reference or "")
        else:
            value = self.email
        return f"{self.office_id}{SEP}{value}{SEP}{self.client_id}"

    def search_words(self) -> list[str]:
        words = set()
        for word in fold(self.company_name).split():
            words.add(compact(word))
            words.update(compact(part) for part in word.split("-"))
        if self.internal_reference:
            words.add(compact(fold(self.internal_reference)))
        words.add(compact(self.email))
        vat = self.vat_number.casefold()
        words.update({vat, vat[2:], vat[2:].lstrip("0")})
        return sorted(f"{self.office_id}{SEP}{w}" for w in words if w)


def search_terms(text: str | None) -> list[str]:
    """The words a query must find (each the beginning of a search word)."""
    folded = fold(text or "")
    if not folded:
        return []
    whole = compact(folded)
    if _VAT_LIKE.fullmatch(whole):  # a VAT number typed with spaces: one word
        return [whole]
    terms = {compact(t) for t in folded.split()} - {""}
    # The search is read by its first word: one with digits (a number, a reference) first,
    # then the longest, as the likeliest to narrow it down.
    return sorted(terms, key=lambda t: (not any(c.isdigit() for c in t), -len(t), t))[:MAX_TERMS]


@dataclass(frozen=True)
class ClientQuery:
    office_id: str
    visible_groups: frozenset[str] | None = None  # None: every group (an admin)
    statuses: frozenset[ClientStatus] | None = None
    group_id: str | None = None
    subscription_mode: SubscriptionMode | None = None
    transfer_method: TransferMethod | None = None
    archived: bool = False  # the archived clients instead of the lists' (never both)
    text: str | None = None
    sort: SortKey = SortKey.COMPANY_NAME
    descending: bool = False
    limit: int = 50
    after: Cursor | None = None

    def __post_init__(self) -> None:
        if self.after is not None and (
            self.after.sort is not self.sort
            or self.after.descending != self.descending
            or not self.after.after.startswith(self.office_id + SEP)
        ):
            raise InvalidCursor("cursor issued for another office or sort order")
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")

    @property
    def groups(self) -> frozenset[str] | None:
        """The groups a page may show (None: all), the filter and the caller's view combined."""
        if self.group_id is None:
            return self.visible_groups
        if self.visible_groups is None or self.group_id in self.visible_groups:
            return frozenset({self.group_id})
        return frozenset()


@dataclass(frozen=True)
class ClientPage:
    items: list[ClientSummary]
    next_cursor: str | None


def finish_page(rows: list[ClientSummary], query: ClientQuery) -> ClientPage:
    """``rows`` are in page order and hold at most limit + 1 rows (the extra one says "more")."""
    items = rows[: query.limit]
    if len(rows) <= query.limit or not items:
        return ClientPage(items, None)
    cursor = Cursor(query.sort, query.descending, items[-1].sort_value(query.sort))
    return ClientPage(items, cursor.encode())
