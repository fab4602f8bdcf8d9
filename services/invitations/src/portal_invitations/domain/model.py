"""``ClientAccess``: one client's way into the portal, the aggregate this service owns.

It holds what this service knows of the client (a read model fed by ClientCreated/ClientUpdated),
the current invitation (at most one is open at a time), the invitations it replaced, the
activation and the login. Keeping them in one aggregate — one MongoDB document — makes every
change one versioned write: resend voids the old link and opens a new one together; acceptance
consumes the link, creates the login and records ClientActivated together.

Tokens are made when an e-mail is actually sent (see :meth:`ClientAccess.begin_sending`), so the
clear token only ever exists in the sender's memory and in the e-mail: the store keeps its hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from portal_invitations.domain.errors import (
    ClientAlreadyActive,
    ClientArchived,
    InvitationLinkInvalid,
    MobileMismatch,
    NoOpenInvitation,
    NotAccountantManaged,
)
from portal_invitations.domain.events import (
    Cause,
    ClientActivated,
    ClientInvited,
    DomainEvent,
    InvitationFailed,
    InvitationRevoked,
)
from portal_invitations.domain.headers import refuse_line_breaks
from portal_invitations.domain.invitation import (
    OPEN_STATES,
    Invitation,
    InvitationState,
    PastInvitation,
)
from portal_invitations.domain.sending import RetryPolicy

LinkState = Literal["valid", "used", "expired", "revoked", "invalid"]

ACCOUNTANT_MANAGED = "accountant_managed"
PAST_KEPT = 20  # replaced invitations remembered (idempotency of ClientCreated, history)

__all__ = [
    "OPEN_STATES",
    "ClientAccess",
    "ClientProfile",
    "Invitation",
    "InvitationState",
    "Login",
    "PastInvitation",
]


@dataclass(frozen=True)
class ClientProfile:
    """What this service keeps of a client (from ClientCreated/ClientUpdated)."""

    client_id: str
    office_id: str
    group_id: str
    email: str
    first_name: str
    last_name: str
    language: str
    subscription_mode: str
    status: str
    mobile_phone: str
    version: int
    archived: bool = False  # the office archived it (clients' archived_at is set)


@dataclass(frozen=True)
class Login:
    email: str
    password_hash: str
    created_at: datetime


@dataclass
class ClientAccess:
    profile: ClientProfile
    invitation: Invitation | None = None
    past: list[PastInvitation] = field(default_factory=list)
    activated_by: str | None = None
    activated_at: datetime | None = None
    login: Login | None = None
    version: int = 0  # 0: never stored
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def client_id(self) -> str:
        return self.profile.client_id

    @property
    def office_id(self) -> str:
        return self.profile.office_id

    @property
    def is_active(self) -> bool:
        return self.activated_by is not None or self.profile.status == "active"

    @property
    def invitable(self) -> bool:
        """Not active, or activated by the accountant without the client ever logging in: a
        silently activated client may still be invited to use the app, and stays active."""
        if not self.is_active:
            return True
        return self.activated_by == "accountant" and self.login is None

    @property
    def send_due_at(self) -> datetime | None:
        """When the sender should look at this client again (None: nothing to send)."""
        inv = self.invitation
        if inv is None or inv.state is not InvitationState.PENDING:
            return None
        return inv.next_attempt_at

    def knows_invitation(self, invitation_id: str) -> bool:
        current = self.invitation is not None and self.invitation.invitation_id == invitation_id
        return current or any(p.invitation_id == invitation_id for p in self.past)

    def open_invitation(self, now: datetime) -> Invitation | None:
        inv = self.invitation
        return inv if inv is not None and inv.effective_state(now) in OPEN_STATES else None

    # --- read model ------------------------------------------------------------------------

    def record_profile(
        self, profile: ClientProfile, now: datetime, reissue_id: str, cause: Cause
    ) -> bool:
        """Take a newer snapshot; an open invitation to an old address is voided and reissued."""
        if profile.version <= self.profile.version:
            return False  # redelivered or out of order: the newer snapshot already won
        old_email = self.profile.email
        self.profile = profile
        open_invitation = self.open_invitation(now)
        if profile.archived and open_invitation is not None:
            # An archived client's link stops working; revoked, so clients shows it not
            # invited (a restore then offers "invite" again).
            self._void(now, "archived")
            self.events.append(
                InvitationRevoked(
                    self.client_id, self.office_id, open_invitation.invitation_id, now, cause
                )
            )
        elif profile.email != old_email and open_invitation is not None:
            self._void(now, "email_changed")
            if self.invitable:
                self._open(reissue_id, now, "email_change", cause)
        return True

    # --- accountant's actions --------------------------------------------------------------

    def invite(self, invitation_id: str, now: datetime, origin: str, cause: Cause) -> Invitation:
        """Invite, or resend: a resend voids the open invitation and opens a new one."""
        if self.profile.archived:
            raise ClientArchived
        if not self.invitable:
            raise ClientAlreadyActive
        p = self.profile
        refuse_line_breaks(
            **{
                "user.first_name": p.first_name,
                "user.last_name": p.last_name,
                "user.email": p.email,
            }
        )
        if self.open_invitation(now) is not None:
            self._void(now, "resent")
        return self._open(invitation_id, now, origin, cause)

    def invite_once(
        self, invitation_id: str, now: datetime, origin: str, cause: Cause
    ) -> Invitation | None:
        """The import's "invite right away": at most once per event, never over a newer one."""
        if self.knows_invitation(invitation_id) or self.is_active or self.profile.archived:
            return None
        if self.open_invitation(now) is not None:
            return None  # the accountant already invited by hand
        return self.invite(invitation_id, now, origin, cause)

    def refuse_invitation(
        self, invitation_id: str, now: datetime, origin: str, cause: Cause, reason: str
    ) -> Invitation:
        """Record an invitation that could not even be queued (an unsafe header), as failed."""
        if self.open_invitation(now) is not None:
            self._void(now, "resent")
        inv = self._open(invitation_id, now, origin, cause)
        self._fail(inv, now, reason)
        return inv

    def revoke(self, now: datetime, cause: Cause) -> Invitation:
        inv = self.open_invitation(now)
        if inv is None:
            raise NoOpenInvitation
        self._void(now, "revoked")
        self.events.append(
            InvitationRevoked(self.client_id, self.office_id, inv.invitation_id, now, cause)
        )
        return inv

    def activate_by_accountant(self, now: datetime, cause: Cause) -> None:
        if self.profile.archived:
            raise ClientArchived
        if self.profile.subscription_mode != ACCOUNTANT_MANAGED:
            raise NotAccountantManaged
        if self.is_active:
            raise ClientAlreadyActive
        if self.open_invitation(now) is not None:
            self._void(now, "activated")
        self._activate("accountant", now, cause)

    # --- the sender ------------------------------------------------------------------------

    def due_for_sending(self, now: datetime) -> bool:
        inv = self.invitation
        return (
            inv is not None
            and inv.state is InvitationState.PENDING
            and inv.next_attempt_at is not None
            and inv.next_attempt_at <= now
        )

    def begin_sending(
        self, token_hash: str, now: datetime, ttl: timedelta, policy: RetryPolicy
    ) -> Invitation:
        """Start an attempt with a fresh token; the queue sees it again only if we never report."""
        inv = self.invitation
        if inv is None or not self.due_for_sending(now):
            raise NoOpenInvitation
        if inv.in_flight_until is None:
            inv.token_hashes = [token_hash]
        else:
            # The previous attempt never reported back: its e-mail may have gone out, so its
            # link stays valid next to this one (the invitation is still single use).
            inv.token_hashes = [*inv.token_hashes[-2:], token_hash]
        inv.attempts += 1
        inv.expires_at = now + ttl
        inv.in_flight_until = now + policy.lease
        inv.next_attempt_at = inv.in_flight_until
        return inv

    def sending_succeeded(self, invitation_id: str, now: datetime) -> bool:
        inv = self._in_flight(invitation_id)
        if inv is None or inv.expires_at is None:
            return False  # voided while the e-mail was on its way: its link is already void
        inv.state = InvitationState.SENT
        inv.sent_at = now
        inv.in_flight_until = inv.next_attempt_at = None
        inv.last_error = None
        self.events.append(
            ClientInvited(
                self.client_id,
                self.office_id,
                inv.invitation_id,
                inv.email,
                inv.expires_at,
                inv.cause,
            )
        )
        return True

    def sending_deferred(
        self,
        invitation_id: str,
        token_hash: str,
        now: datetime,
        error: str,
        policy: RetryPolicy,
        jitter: float,
    ) -> bool:
        """A temporary refusal (4xx, connection): retry later; this attempt's link never left."""
        inv = self._in_flight(invitation_id)
        if inv is None:
            return False
        inv.token_hashes = [h for h in inv.token_hashes if h != token_hash]
        inv.in_flight_until = None
        inv.last_error = error
        if inv.attempts >= policy.max_attempts:
            self._fail(inv, now, f"retries_exhausted: {error}")
        else:
            inv.next_attempt_at = now + policy.delay(inv.attempts, jitter)
        return True

    def sending_failed(self, invitation_id: str, now: datetime, reason: str) -> bool:
        """A permanent refusal (5xx, unsafe header): failed with its reason, nothing retried."""
        inv = self._in_flight(invitation_id)
        if inv is None:
            return False
        self._fail(inv, now, reason)
        return True

    # --- the client accepting --------------------------------------------------------------

    def acceptable_invitation(self, token_hash: str, now: datetime) -> Invitation:
        inv = self.invitation
        if (
            inv is None
            or token_hash not in inv.token_hashes
            or inv.effective_state(now) not in {InvitationState.PENDING, InvitationState.SENT}
            or inv.expires_at is None
            or now >= inv.expires_at
            or not self.invitable
        ):
            raise InvitationLinkInvalid
        return inv

    def link_state(self, token_hash: str, now: datetime) -> LinkState:
        """What the link with this hash opens now, told to whoever holds it (a 256-bit token:
        nothing to enumerate). A link of a replaced or failed invitation is simply invalid."""
        inv = self.invitation
        if inv is None or token_hash not in inv.token_hashes:
            return "invalid"
        try:
            self.acceptable_invitation(token_hash, now)
        except InvitationLinkInvalid:
            state = inv.effective_state(now)
            if state is InvitationState.ACCEPTED:
                return "used"
            if state is InvitationState.REVOKED:
                return "revoked"
            if inv.expires_at is not None and now >= inv.expires_at and self.invitable:
                return "expired"
            return "invalid"
        return "valid"

    def confirm_mobile(self, mobile_phone: str) -> None:
        if mobile_phone != self.profile.mobile_phone:
            raise MobileMismatch

    def accept(self, token_hash: str, password_hash: str, now: datetime, cause: Cause) -> None:
        inv = self.acceptable_invitation(token_hash, now)
        inv.state = InvitationState.ACCEPTED
        inv.ended_at = now
        # Single use by state: the hash stays so the link, opened again, says it was used.
        inv.next_attempt_at = inv.in_flight_until = None
        self.login = Login(self.profile.email, password_hash, now)
        self._activate("client", now, cause)

    # --- internals -------------------------------------------------------------------------

    def _open(self, invitation_id: str, now: datetime, origin: str, cause: Cause) -> Invitation:
        if self.invitation is not None:
            self._archive(self.invitation)
        self.invitation = Invitation(
            invitation_id=invitation_id,
            email=self.profile.email,
            created_at=now,
            origin=origin,
            cause=cause,
            next_attempt_at=now,
        )
        return self.invitation

    def _void(self, now: datetime, reason: str) -> None:
        inv = self.invitation
        if inv is None:
            return
        inv.state = InvitationState.REVOKED
        inv.ended_at = now
        inv.end_reason = reason  # the hashes stay: the link, opened, says it was revoked
        inv.next_attempt_at = inv.in_flight_until = None

    def _fail(self, inv: Invitation, now: datetime, reason: str) -> None:
        inv.state = InvitationState.FAILED
        inv.failure_reason = reason
        inv.ended_at = now
        inv.token_hashes = []
        inv.next_attempt_at = inv.in_flight_until = None
        self.events.append(
            InvitationFailed(
                self.client_id, self.office_id, inv.invitation_id, reason, now, inv.cause
            )
        )

    def _archive(self, inv: Invitation) -> None:
        entry = PastInvitation(inv.invitation_id, inv.state, inv.ended_at, inv.end_reason)
        self.past = [*self.past, entry][-PAST_KEPT:]

    def _in_flight(self, invitation_id: str) -> Invitation | None:
        inv = self.invitation
        if inv is None or inv.invitation_id != invitation_id:
            return None
        if inv.state is not InvitationState.PENDING:
            return None
        return inv

    def _activate(self, by: str, now: datetime, cause: Cause) -> None:
        self.activated_by = by
        self.activated_at = now
        self.events.append(ClientActivated(self.client_id, self.office_id, by, cause))
