"""The ports the service layer depends on, in the domain's words; adapters implement them (MongoDB,
SMTP, argon2), tests provide fakes (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.office import OfficeProfile

# The e-mail of one attempt: (client, invitation, clear token, office name, now) -> message.
Compose = Callable[[ClientAccess, Invitation, str, OfficeProfile | None, datetime], EmailMessage]


@dataclass(frozen=True)
class Reservation:
    """Slots taken from an office's hourly quota; ``reopens``: when more may be taken, if the
    quota ran out."""

    granted: int
    reopens: datetime | None = None


class Conflict(Exception):
    """Someone else changed the client since it was loaded (optimistic version check)."""


class MailRefused(Exception):
    """The relay did not take the message. ``permanent``: 5xx, do not retry."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Clock(Protocol):
    def now(self) -> datetime: ...


class ClientAccessRepository(Protocol):
    """Every client's access, and the events its changes recorded (stored with the change)."""

    async def get(self, client_id: str) -> ClientAccess | None: ...

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]: ...

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        """The client whose open invitation holds this link (None: no such link)."""

    async def save(self, access: ClientAccess) -> None:
        """Store the client as changed since it was loaded, with its new events, or raise
        :class:`Conflict` (nothing stored) when someone else changed it meanwhile."""

    async def save_many(self, accesses: Sequence[ClientAccess]) -> set[str]:
        """:meth:`save` for many clients at once; returns the ids of those someone else changed
        meanwhile (nothing of them stored)."""

    async def add_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        """Store clients never stored before; returns those someone else stored first (nothing
        of them stored)."""


class InvitationsToSend(Protocol):
    """The invitations waiting for their e-mail, and the attempts under way."""

    async def due(self, now: datetime, limit: int) -> list[ClientAccess]:
        """Clients whose invitation is due to be sent now, the longest waiting first."""

    async def claim(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        """Start the attempts these clients began (:meth:`ClientAccess.begin_sending`), each
        only if nobody changed the client since it was loaded: of several senders, one wins.
        Returns the won. An attempt whose outcome is never recorded is due again when its
        lease ends."""

    async def postpone(self, office_id: str, now: datetime, until: datetime) -> None:
        """The office's invitations due ``now`` wait until ``until`` (its quota reopens)."""


class OfficeProfiles(Protocol):
    async def profile_of(self, office_id: str) -> OfficeProfile | None:
        """The newest profile clients announced; None before the office saved one."""

    async def remember(self, office_id: str, version: int, profile: OfficeProfile) -> bool:
        """Keep ``profile`` unless a version at least as new is kept (False: ignored)."""


class OfficeQuota(Protocol):
    async def reserve(self, office_id: str, now: datetime, wanted: int = 1) -> Reservation:
        """Take up to ``wanted`` invitations of the office's hourly quota at once."""


class FailedAttempts(Protocol):
    """Failed acceptance attempts per key (a client address, a link) in a sliding window."""

    async def record(self, key: str, now: datetime) -> timedelta | None:
        """Count one failure; when the key is now past its limit, how long it must wait."""

    async def wait(self, key: str, now: datetime) -> timedelta | None:
        """How long the key must wait before trying again (None: it may try); counts nothing."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message to the relay or raise :class:`MailRefused`."""


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
