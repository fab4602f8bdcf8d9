"""What the handlers need from the outside world; adapters implement these, tests use fakes."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client
from portal_clients.domain.office import Group, OfficeSettings
from portal_clients.domain.vat import RegisterAnswer
from portal_contracts.imports import ImportCommitted, ImportRejected, RejectedRow


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class ClientStore(Protocol):
    async def get(self, client_id: str) -> Client | None: ...

    async def add(self, client: Client, *, vat_claimed: bool = False) -> None:
        """Insert with its events; raises Conflict when a uniqueness rule refuses."""

    async def claim_vat(self, vat: str, office_id: str, client_id: str) -> None:
        """Take the company for this client; Conflict when another client holds it."""

    async def release_vat(self, vat: str, client_id: str) -> None: ...

    def edit(self, client_id: str) -> AbstractAsyncContextManager[Client | None]:
        """The client as its only writer; what it recorded is saved on a clean exit."""

    async def page(self, query: ClientQuery) -> ClientPage: ...

    async def taken_emails(self, emails: list[str]) -> set[str]: ...

    async def vat_owners(self, vats: list[str]) -> dict[str, str]: ...

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]: ...


class GroupStore(Protocol):
    async def all(self, office_id: str) -> list[Group]:
        """The office's groups, "Everyone" included (created on first use)."""

    async def add(self, group: Group) -> None: ...

    def edit(self, office_id: str, group_id: str) -> AbstractAsyncContextManager[Group | None]: ...

    async def delete(self, office_id: str, group_id: str) -> None: ...


class SettingsStore(Protocol):
    async def get(self, office_id: str) -> tuple[OfficeSettings, int]:
        """The settings and their version (0: never saved, defaults)."""

    async def save(self, office_id: str, settings: OfficeSettings, expected_version: int) -> int:
        """Store; raises StaleVersion when ``expected_version`` is not current."""


class VatRegister(Protocol):
    async def check(self, vat_number: str) -> RegisterAnswer: ...


@dataclass
class PendingCheck:
    client_id: str
    vat_number: str
    attempts: int
    due_at: datetime
    import_ref: str = ""  # an imported client: wait for its import to be committed


class RecheckQueue(Protocol):
    async def schedule(self, check: PendingCheck) -> None: ...

    async def schedule_many(self, checks: list[PendingCheck]) -> None:
        """Schedule new checks in bulk (an import); existing ones are left as they are."""

    async def due(self, now: datetime, limit: int) -> list[PendingCheck]: ...

    async def drop(self, client_id: str) -> None: ...


@dataclass
class ImportRecord:
    key: str
    office_id: str
    chunk_count: int
    state: str = "receiving"  # receiving | committed | rejected
    chunks: set[int] = field(default_factory=set)
    lost: list[RejectedRow] = field(default_factory=list)
    client_ids: dict[int, str] = field(default_factory=dict)  # row number -> client id


class ImportStore(Protocol):
    async def begin(self, key: str, office_id: str, chunk_count: int) -> ImportRecord: ...

    async def insert_hidden(
        self, key: str, index: int, clients: list[Client]
    ) -> list[tuple[str, str, str]]:
        """Insert chunk ``index`` of an import: its clients, hidden, and their events, held until
        the import commits; returns (client id, field, code) of the clients refused."""

    async def record_chunk(
        self, key: str, index: int, lost: list[RejectedRow], created: dict[int, str]
    ) -> None: ...

    async def commit(self, key: str, answer: list[ImportCommitted]) -> None:
        """Make the import's clients visible and announce ClientCreated + ImportCommitted (in
        parts)."""

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        """Remove the import's hidden clients and announce ImportRejected (in parts)."""

    async def state(self, key: str) -> str | None:
        """receiving | committed | rejected, or None for an unknown import."""
