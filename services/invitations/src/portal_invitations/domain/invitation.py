"""One invitation: an e-mail with a single-use link, its sending attempts and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal_invitations.domain.events import Cause


class InvitationState(StrEnum):
    PENDING = "pending"  # queued: waiting for its turn, or retrying after a 4xx
    SENT = "sent"
    FAILED = "failed"  # permanently refused (5xx, unsafe header), reason visible
    ACCEPTED = "accepted"
    REVOKED = "revoked"  # revoked, replaced by a resend, or voided by an e-mail change
    EXPIRED = "expired"


OPEN_STATES = frozenset({InvitationState.PENDING, InvitationState.SENT, InvitationState.FAILED})


@dataclass
class Invitation:
    invitation_id: str
    email: str
    created_at: datetime
    origin: str  # "accountant", "import", "email_change"
    cause: Cause = field(default_factory=Cause)
    state: InvitationState = InvitationState.PENDING
    token_hashes: list[str] = field(default_factory=list)
    expires_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    in_flight_until: datetime | None = None  # an attempt has started and not reported back
    sent_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None  # revoked / resent / email_changed / activated
    last_error: str | None = None
    failure_reason: str | None = None

    def effective_state(self, now: datetime) -> InvitationState:
        if (
            self.state is InvitationState.SENT
            and self.expires_at is not None
            and now >= self.expires_at
        ):
            return InvitationState.EXPIRED
        return self.state


@dataclass(frozen=True)
class PastInvitation:
    invitation_id: str
    state: InvitationState
    ended_at: datetime | None
    end_reason: str | None
