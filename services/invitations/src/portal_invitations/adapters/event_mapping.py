"""Domain events as the contract envelopes other services consume (keyed by client id).

A failure's reason is recorded on the invitation as one line ("smtp 550: no such user",
"retries_exhausted: smtp 421: try later", "mail.header_injection: user.email"); the event
carries it split into a stable code the clients service shows and the relay's words.
Every envelope is stamped when the change is saved (``occurred_at``: the wall clock), so the
events of one client compare by time whichever process wrote them; consumers rely on it.
"""

from __future__ import annotations

import uuid
from typing import Any

from portal_contracts.clients import (
    ActivatedBy,
    ClientActivated,
    ClientActivatedPayload,
    ClientInvitationFailed,
    ClientInvitationFailedPayload,
    ClientInvitationRevoked,
    ClientInvitationRevokedPayload,
    ClientInvited,
    ClientInvitedPayload,
)
from portal_contracts.envelope import Envelope
from portal_invitations.domain import events


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def failure_code(reason: str) -> tuple[str, str]:
    """(stable code, detail) of a recorded failure reason."""
    head, _, rest = reason.partition(": ")
    if head == "retries_exhausted":
        return "mail.retries_exhausted", rest
    if head.startswith("smtp "):
        return "mail.rejected", reason
    if head.startswith("mail.") and rest:
        return head, rest
    return "mail.failed", reason


def to_envelope(event: events.DomainEvent) -> Envelope[Any]:
    """The envelope announcing ``event`` (every domain event has one)."""
    envelope: Envelope[Any]
    office, correlation = event.office_id, _uuid(event.cause.correlation_id)
    if isinstance(event, events.ClientInvited):
        envelope = ClientInvited.new(
            office_id=office,
            correlation_id=correlation,
            payload=ClientInvitedPayload(
                client_id=event.client_id,
                invitation_id=event.invitation_id,
                email=event.email,
                expires_at=event.expires_at,
            ),
        )
    elif isinstance(event, events.InvitationRevoked):
        envelope = ClientInvitationRevoked.new(
            office_id=office,
            correlation_id=correlation,
            payload=ClientInvitationRevokedPayload(
                client_id=event.client_id, invitation_id=event.invitation_id
            ),
        )
    elif isinstance(event, events.InvitationFailed):
        reason, detail = failure_code(event.reason)
        envelope = ClientInvitationFailed.new(
            office_id=office,
            correlation_id=correlation,
            payload=ClientInvitationFailedPayload(
                client_id=event.client_id,
                invitation_id=event.invitation_id,
                reason=reason,
                detail=detail,
            ),
        )
    else:
        envelope = ClientActivated.new(
            office_id=office,
            correlation_id=correlation,
            payload=ClientActivatedPayload(client_id=event.client_id, by=ActivatedBy(event.by)),
        )
    return envelope.model_copy(update={"causation_id": _uuid(event.cause.causation_id)})
