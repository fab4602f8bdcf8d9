"""What the delivery handlers need from the outside world; adapters implement these, tests use
the fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from portal_contracts.values import TransferMethod
from portal_delivery.domain.agents import AgentKey
from portal_delivery.domain.connections import Connection, EmailIdentity, Kind
from portal_delivery.domain.delivery import Delivery, FileRef, Problem, Receipt, State
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument


class Clock(Protocol):
    def now(self) -> datetime: ...


class Stale(Exception):
    """Someone else changed the delivery since it was read (the version in the filter)."""


class ClientRoutes(Protocol):
    async def get(self, office_id: str, client_id: str) -> ClientRoute | None: ...

    async def keep_newest(self, route: ClientRoute) -> bool:
        """Store ``route`` unless a route of the same or a newer version is stored; True when
        stored. Atomic: of two snapshots racing, the newer one stays."""
        ...

    async def using(self, office_id: str, method: TransferMethod, connection: str | None) -> int:
        """How many of the office's clients deliver by ``method`` (through the connection
        named ``connection``; None: the office's only one of that kind)."""
        ...


class OfficeDefaultsStore(Protocol):
    async def get(self, office_id: str) -> OfficeDefaults: ...

    async def keep_newest(self, defaults: OfficeDefaults) -> bool: ...


class OfficeSenderNames(Protocol):
    """The name an office's e-mails come from, kept from OfficeProfileChanged (clients owns
    the profile): its sender name, else its name; None before the office saved one."""

    async def of(self, office_id: str) -> str | None: ...

    async def keep_newest(self, office_id: str, version: int, sends_as: str) -> bool: ...


class WaitingDocuments(Protocol):
    """Documents that arrived before their client's settings (two topics, no order between)."""

    async def park(self, document: ReadyDocument) -> None: ...

    async def take(self, office_id: str, client_id: str) -> list[ReadyDocument]: ...

    async def done(self, document_id: str) -> None: ...


@dataclass(frozen=True)
class DeliveryQuery:
    office_id: str
    client_id: str | None = None
    document_id: str | None = None
    states: frozenset[State] | None = None
    visible_groups: frozenset[str] | None = None  # None: every group (an admin)
    after: tuple[datetime, str] | None = None  # keyset: (created_at, delivery id) of the last row
    limit: int = 50


class Ledger(Protocol):
    """The deliveries: one record per document × target, its attempts and their proof."""

    async def add(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Store new deliveries with their events in one transaction; those already stored (a
        replayed document) are left as they are. Returns the ones stored now."""
        ...

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def save(self, delivery: Delivery) -> None:
        """Write the delivery at its loaded version with its events, in one transaction;
        :class:`Stale` when it changed meanwhile."""
        ...

    async def save_all(self, deliveries: Sequence[Delivery]) -> None:
        """Several deliveries and their events in one transaction; :class:`Stale` (and none
        saved) when any changed meanwhile."""
        ...

    async def hold(self, delivery: Delivery, until: datetime) -> bool:
        """Extend a running attempt's lease (the worker is still at it); False when the delivery
        changed meanwhile. Does not change its version."""
        ...

    async def note(self, delivery: Delivery, key: str, value: Any) -> bool:
        """Keep what the channel learnt mid-attempt (an upload session, the id an API returned)
        in the running attempt's ``progress`` at once, so that the attempt resumed after a crash
        finds it; False when the delivery changed meanwhile. Does not change its version."""
        ...

    async def dispatch_due(self, now: datetime, lease: timedelta, limit: int) -> int:
        """Claim deliveries whose due time came (first attempts, retries, and dispatched or
        sending ones whose lease ran out) and put "deliver now" on their channel's topic."""
        ...

    async def page(self, query: DeliveryQuery) -> list[Delivery]: ...

    async def open_of_client(self, office_id: str, client_id: str) -> list[Delivery]: ...

    async def open_of_office(self, office_id: str) -> list[Delivery]: ...


class ConnectionStore(Protocol):
    async def get(self, office_id: str, name: str) -> Connection | None: ...

    async def all(self, office_id: str) -> list[Connection]: ...

    async def save(self, connection: Connection, expected_version: int) -> Connection:
        """Insert (expected 0) or replace at ``expected_version``, and announce the office's
        connection names, in one transaction; :class:`Stale` when the version moved, and
        ``ConnectionNameTaken`` when a new connection's name exists."""
        ...

    async def delete(self, office_id: str, name: str, expected_version: int) -> None:
        """Delete at ``expected_version`` (an agent connection's keys with it, at once)."""
        ...

    async def sole(self, office_id: str, kind: Kind) -> Connection | None:
        """The office's one connection of a kind its clients name none of (OneDrive,
        Clearfacts)."""
        ...

    async def identity(self, office_id: str) -> EmailIdentity | None: ...

    async def save_identity(self, identity: EmailIdentity) -> EmailIdentity: ...


class ConnectionNameTaken(Exception):
    pass


class ConnectionKindTaken(Exception):
    """The office has its OneDrive (or Clearfacts) connection already: one of each."""


class DocumentFiles(Protocol):
    async def read(self, file: FileRef) -> bytes | None:
        """The file's bytes, or None when the document's file is gone (deleted)."""
        ...


Note = Callable[[str, Any], Awaitable[None]]


async def _forget(key: str, value: Any) -> None:
    return None


@dataclass(frozen=True)
class Parcel:
    """What a channel delivers: the delivery, its files' bytes, and where (its connection).

    ``note(key, value)`` keeps what the channel learns mid-attempt in the ledger at once (an
    upload session's URL, the uuid an API answered); ``noted(key)`` finds it again in a later
    or resumed attempt of the same delivery."""

    delivery: Delivery
    files: list[tuple[FileRef, bytes]]
    connection: Connection | None
    sender: EmailIdentity | None
    note: Note = field(default=_forget, compare=False)
    office_sends_as: str | None = None  # the From name when the identity names none

    def noted(self, key: str) -> Any:
        for attempt in reversed(self.delivery.attempts):
            if key in attempt.progress:
                return attempt.progress[key]
        return None

    @property
    def package(self) -> str:
        return self.delivery.package

    @property
    def resumed(self) -> bool:
        """This attempt was begun by a worker that died: some files may already be in place."""
        return bool(self.delivery.attempts) and self.delivery.attempts[-1].resumed


class Channel(Protocol):
    """One delivery channel (e-mail, sFTP, …): deliver or raise ``ChannelError``."""

    async def deliver(self, parcel: Parcel) -> Receipt: ...


@dataclass(frozen=True)
class Probe:
    """What "test connection" found: the host key the server showed, and what failed, if any."""

    host_key: str | None
    problem: Problem | None


class ConnectionTester(Protocol):
    async def probe(self, connection: Connection) -> Probe: ...


class Destinations(Protocol):
    """Per-destination circuit breaker (an sFTP server, a mailbox domain…)."""

    async def paused_until(self, destination: str, now: datetime) -> datetime | None: ...

    async def failed(self, destination: str, now: datetime) -> None: ...

    async def throttled(self, destination: str, until: datetime) -> None:
        """The destination asked us to wait (429/503 with Retry-After): paused until then,
        counted as no failure (it is not down, and the breaker's pauses do not grow)."""
        ...

    async def succeeded(self, destination: str) -> None: ...


class AgentKeys(Protocol):
    """The keys the office's agents authenticate with: a token shown once when issued, kept as
    its sha256; revoked keys (and the keys of a deleted connection) are refused at once."""

    async def issue(self, key: AgentKey, token: str) -> None: ...

    async def verify(self, token: str) -> AgentKey | None: ...

    async def of_connection(self, office_id: str, connection: str) -> list[AgentKey]: ...

    async def revoke(self, office_id: str, connection: str, key_id: str) -> bool: ...

    async def seen(self, key: AgentKey, at: datetime) -> None: ...


class PullQueue(Protocol):
    """What an agent connection may fetch: its available deliveries, oldest first."""

    async def available(
        self, office_id: str, connection: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[Delivery]: ...

    async def of_ids(self, office_id: str, connection: str, ids: Sequence[str]) -> list[Delivery]:
        """The connection's deliveries among ``ids`` (others' are not found)."""
        ...
