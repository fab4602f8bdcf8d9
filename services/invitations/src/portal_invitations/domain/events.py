"""Domain events the aggregate records; the service layer turns them into contract envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Cause:
    """Where a change came from, carried on to the events it produces."""

    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class ClientInvited:
    client_id: str
    office_id: str
    invitation_id: str
    email: str
    expires_at: datetime
    cause: Cause


@dataclass(frozen=True)
class ClientActivated:
    client_id: str
    office_id: str
    by: str  # "client" | "accountant"
    cause: Cause


@dataclass(frozen=True)
class InvitationRevoked:
    """The accountant revoked the open invitation: its link no longer opens anything."""

    client_id: str
    office_id: str
    invitation_id: str
    revoked_at: datetime
    cause: Cause


@dataclass(frozen=True)
class InvitationFailed:
    """The invitation e-mail could not be delivered: refused for good, or retried to the end."""

    client_id: str
    office_id: str
    invitation_id: str
    reason: str  # as recorded on the invitation, e.g. "smtp 550: no such user"
    failed_at: datetime
    cause: Cause


DomainEvent = ClientInvited | ClientActivated | InvitationRevoked | InvitationFailed
