"""The ports the service layer depends on; adapters implement them, tests provide fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from portal_invitations.domain.model import ClientAccess


@dataclass(frozen=True)
class DueEntry:
    """A send-queue entry: a client whose invitation may be due (the document decides)."""

    client_id: str
    office_id: str
    rev: str


@dataclass(frozen=True)
class LockedClients:
    """Clients locked for one batch: ``locked`` were free and are now held by this batch;
    ``accesses`` are those of them that exist, loaded under their locks."""

    locked: frozenset[str]
    accesses: dict[str, ClientAccess] = field(default_factory=dict)


@dataclass(frozen=True)
class Added:
    """What :meth:`ClientAccessRepository.add_new` did: ``taken`` were stored by someone else
    first (nothing of them written); ``queued`` the send-queue entries it wrote."""

    taken: list[ClientAccess] = field(default_factory=list)
    queued: dict[str, DueEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class Reservation:
    """Slots taken from an office's hourly quota; ``reopens``: when more may be taken, if the
    quota ran out."""

    granted: int
    reopens: datetime | None = None


class Conflict(Exception):
    """Someone else changed the aggregate since it was loaded (optimistic version check)."""


class MailRefused(Exception):
    """The relay did not take the message. ``permanent``: 5xx, do not retry."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Clock(Protocol):
    def now(self) -> datetime: ...


class ClientAccessRepository(Protocol):
    async def get(self, client_id: str) -> ClientAccess | None: ...

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None: ...

    async def save(
        self,
        access: ClientAccess,
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: DueEntry | None = None,
    ) -> None:
        """Insert (version 0) or update at the loaded version, or raise :class:`Conflict`.
        ``queue=False`` leaves the send queue alone; ``publish_now`` publishes new events at
        once when it can; ``done_with`` is the queue entry this write settles."""

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]: ...

    async def add_new(self, accesses: Sequence[ClientAccess], *, queue: bool = True) -> Added:
        """Insert never-stored aggregates at once (then their queue entries)."""

    def locked(self, client_ids: Sequence[str]) -> AbstractAsyncContextManager[LockedClients]:
        """Lock those of ``client_ids`` that are free, without waiting, and load them."""

    async def write_locked(
        self,
        accesses: Sequence[ClientAccess],
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: Mapping[str, DueEntry] | None = None,
    ) -> set[str]:
        """Like :meth:`save` for many aggregates whose locks are held (see :meth:`locked`);
        returns the client ids that changed meanwhile (not written)."""

    async def due_for_sending(
        self, now: datetime, limit: int, skip_offices: frozenset[str]
    ) -> list[DueEntry]: ...

    async def release_due_locked(self, entry: DueEntry, due_at: datetime | None) -> None:
        """Drop a stale queue entry (unless renewed since), or move it to ``due_at``; the
        caller holds the client's lock (see :meth:`locked`)."""


class OfficeNames(Protocol):
    async def name_of(self, office_id: str) -> str | None: ...

    async def set_name(self, office_id: str, name: str) -> None: ...


class OfficeSendLimit(Protocol):
    async def reserve(self, office_id: str, now: datetime, wanted: int = 1) -> Reservation:
        """Take up to ``wanted`` slots of the office's hourly quota at once."""


class GuessLimiter(Protocol):
    async def hit(self, key: str, now: datetime) -> timedelta | None:
        """Count one attempt; when over the limit, how long to wait."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message to the relay or raise :class:`MailRefused`."""


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
