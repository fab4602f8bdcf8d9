"""What the clients service knows of a client's invitation, from the invitations service's events.

The invitations service owns invitations; this is the part the accountant sees on the client and
in the list: the last invitation's state (sent, failed with its reason, accepted), or none at
all ("not yet invited", after a revocation too).

Its events travel on four topics (invited, revoked, failed, activated), so one client's events
may arrive in any order, and twice. Each is applied only if it is not older (``occurred_at``)
than the newest one already applied (``as_of``); applying the same one again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class InvitationState(StrEnum):
    SENT = "sent"  # the e-mail went out; the link waits for the client
    FAILED = "failed"  # the e-mail could not be delivered: see reason / detail
    ACCEPTED = "accepted"  # the client onboarded with it


@dataclass(frozen=True)
class ClientInvitation:
    invitation_id: str
    state: InvitationState
    at: datetime  # when the invitations service recorded this state
    reason: str | None = None  # a stable code ("mail.rejected") when failed
    detail: str | None = None  # what the mail relay said


@dataclass(frozen=True)
class InvitationNews:
    """One invitation event as the client aggregate applies it: ``invitation`` None = none open."""

    invitation: ClientInvitation | None
    occurred_at: datetime

    def is_older_than(self, as_of: datetime | None) -> bool:
        return as_of is not None and self.occurred_at < as_of


def to_ms(at: datetime) -> datetime:
    """Milliseconds, what MongoDB keeps: a redelivered event then equals what was stored."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def sent(invitation_id: str, occurred_at: datetime) -> InvitationNews:
    at = to_ms(occurred_at)
    return InvitationNews(ClientInvitation(invitation_id, InvitationState.SENT, at), at)


def failed(invitation_id: str, reason: str, detail: str, occurred_at: datetime) -> InvitationNews:
    at = to_ms(occurred_at)
    invitation = ClientInvitation(invitation_id, InvitationState.FAILED, at, reason, detail or None)
    return InvitationNews(invitation, at)


def revoked(occurred_at: datetime) -> InvitationNews:
    return InvitationNews(None, to_ms(occurred_at))


class Action(StrEnum):
    """What the accountant may do to a client's access now (the Actions of a list row)."""

    INVITE = "invite"
    RESEND = "resend"
    REVOKE = "revoke"
    ACTIVATE = "activate"
    ARCHIVE = "archive"
    RESTORE = "restore"


def allowed_actions(
    status: str,
    accountant_managed: bool,
    invitation: ClientInvitation | None,
    archived: bool = False,
) -> list[Action]:
    """The one rule the list rows carry, so no page re-derives it (the article's Actions):
    not yet invited → invite, and activate when the accountant manages the client; invited →
    resend or revoke; active after a silent activation → invite (it stays active), then resend or
    revoke while that invitation is out, invite again after a failed one. Any client can be
    archived; an archived one can only be restored."""
    if archived:  # nothing but bringing it back
        return [Action.RESTORE]
    return [*_access_actions(status, accountant_managed, invitation), Action.ARCHIVE]


def _access_actions(
    status: str, accountant_managed: bool, invitation: ClientInvitation | None
) -> list[Action]:
    out = invitation is not None and invitation.state is InvitationState.SENT
    if status == "not_invited":
        return [Action.INVITE, *([Action.ACTIVATE] if accountant_managed else [])]
    if status == "inactive":
        return [Action.RESEND, Action.REVOKE]
    if status == "active" and accountant_managed:
        if out:
            return [Action.RESEND, Action.REVOKE]
        if invitation is None or invitation.state is InvitationState.FAILED:
            return [Action.INVITE]
    return []
