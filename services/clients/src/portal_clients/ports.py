"""What the handlers need from the outside world; adapters implement these, tests use fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client
from portal_clients.domain.office import Group, OfficeProfile, OfficeSettings
from portal_clients.domain.vat import RegisterAnswer
from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_contracts.values import TransferMethod


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


@dataclass(frozen=True)
class Holder:
    """The client holding a unique value (an e-mail, a VAT number, a reference)."""

    client_id: str
    office_id: str
    group_id: str
    email: str
    vat_number: str
    reference: str | None


@dataclass(frozen=True)
class RepublishedPage:
    """One page of clients whose state was announced again: the last client id read (None: no
    client after the page asked for) and how many states went out (a client of an import not
    committed yet is read but not announced)."""

    last_id: str | None
    published: int


class ClientStore(Protocol):
    async def get(self, client_id: str) -> Client | None:
        """The client, any office (the caller checks tenancy); None until it exists for all."""

    async def add(self, client: Client) -> None:
        """Store a new client with its events; Conflict when a uniqueness rule refuses."""

    async def save(self, client: Client, based_on: int) -> None:
        """Store ``client`` and its events if it is still at version ``based_on``; StaleVersion
        otherwise, Conflict when a uniqueness rule refuses."""

    async def page(self, query: ClientQuery) -> ClientPage: ...

    async def holders(self, emails: Sequence[str], vat_numbers: Sequence[str]) -> list[Holder]:
        """The clients (of any office) holding any of these e-mails or VAT numbers."""

    async def reference_holders(self, office_id: str, references: Sequence[str]) -> list[Holder]:
        """The office's clients holding any of these internal references (any case)."""

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]: ...

    async def republish_states(
        self, after: str | None, limit: int, *, office_id: str | None = None
    ) -> RepublishedPage:
        """Announce again (ClientState) the current state of the next ``limit`` clients in
        client id order after ``after`` (of one office, or all). A change committed meanwhile
        is never overtaken: its state is announced after any older one announced here."""

    async def release_claims(self, now: datetime) -> int:
        """Free the e-mail and VAT number of archived clients held until ``now`` or before;
        returns how many."""

    async def due_recheck(self, now: datetime, lease: timedelta) -> Client | None:
        """A client whose register check is due, claimed for ``lease``: no one else gets it
        meanwhile, and it comes back once the lease runs out unless it was saved."""


class GroupStore(Protocol):
    async def all(self, office_id: str) -> list[Group]:
        """The office's groups, "Everyone" included (created on first use)."""

    async def add(self, group: Group) -> None: ...

    async def save(self, group: Group, based_on: int) -> None:
        """StaleVersion when the group is no longer at version ``based_on``."""

    async def delete(self, office_id: str, group_id: str) -> None: ...


class SettingsStore(Protocol):
    async def get(self, office_id: str) -> tuple[OfficeSettings, int]:
        """The settings and their version (0: never saved, defaults)."""

    async def save(self, office_id: str, settings: OfficeSettings, expected_version: int) -> int:
        """Store; raises StaleVersion when ``expected_version`` is not current."""


class ProfileStore(Protocol):
    async def get(self, office_id: str) -> tuple[OfficeProfile | None, int]:
        """The office's profile and its version (None, 0: never saved)."""

    async def save(self, office_id: str, profile: OfficeProfile, expected_version: int) -> int:
        """Store with OfficeProfileChanged; raises StaleVersion when ``expected_version`` is
        not current."""


class ConnectionNames(Protocol):
    """The office's delivery connections by name, as delivery last announced them."""

    async def of(self, office_id: str) -> dict[str, TransferMethod] | None:
        """Name → kind; None when delivery has announced none for this office yet."""

    async def keep_newest(
        self, office_id: str, version: int, connections: dict[str, TransferMethod]
    ) -> bool:
        """Store unless a version as new is stored already; True when stored."""


class VatRegister(Protocol):
    async def check(self, vat_number: str) -> RegisterAnswer: ...


class Quota(Protocol):
    async def take(self, key: str, amount: int, now: datetime) -> timedelta | None:
        """Count ``amount`` against ``key``'s allowance; None while within it, else how long until
        the allowance is renewed."""


@dataclass(frozen=True)
class ImportLine:
    """A confirmed row as the importer sent it (``client``: ClientData in its JSON form)."""

    row_number: int
    invite: bool
    client: Mapping[str, Any]
    skip_vat_check: bool = False  # "don't check the VAT number" ticked on the row


@dataclass(frozen=True)
class ImportChunk:
    key: str  # "<import id>:<version>"
    office_id: str
    index: int
    count: int
    lines: list[ImportLine]


class ImportStatus(Enum):
    OPEN = "open"  # chunks are missing
    COMPLETE = "complete"  # every chunk is in; the outcome is not decided yet
    DONE = "done"  # committed or rejected, and announced


class ImportStore(Protocol):
    async def receive(self, chunk: ImportChunk) -> ImportStatus:
        """Keep a chunk (a second delivery changes nothing) and say where the import stands."""

    async def lines(self, key: str) -> list[ImportLine]:
        """Every row of a complete import, in chunk order."""

    async def commit(self, key: str, clients: list[Client], answer: list[ImportCommitted]) -> None:
        """Create every client of the import with their events and the answer, all or none;
        RowsRefused (and nothing created) when a row lost a uniqueness race meanwhile."""

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        """End the import without creating any client, and announce why."""
