"""Domain events as the contract envelopes other services consume.

InvitationRevoked has no contract yet, so it is not published: once ``portal_contracts.clients``
defines ``ClientInvitationRevoked`` (payload client_id, invitation_id, revoked_at; key the
client id), mapping it in :func:`to_envelope` is the only change its publication needs (it is
already recorded by the aggregate and written with the revocation).
"""

from __future__ import annotations

import uuid
from typing import Any

from portal_contracts.clients import (
    ActivatedBy,
    ClientActivated,
    ClientActivatedPayload,
    ClientInvited,
    ClientInvitedPayload,
)
from portal_contracts.envelope import Envelope
from portal_invitations.domain import events


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def to_envelope(event: events.DomainEvent) -> Envelope[Any] | None:
    """The envelope announcing ``event``; None for an event no contract announces (yet)."""
    if isinstance(event, events.InvitationRevoked):
        return None
    correlation = _uuid(event.cause.correlation_id)
    causation = _uuid(event.cause.causation_id)
    envelope: Envelope[Any]
    if isinstance(event, events.ClientInvited):
        envelope = ClientInvited.new(
            office_id=event.office_id,
            correlation_id=correlation,
            payload=ClientInvitedPayload(
                client_id=event.client_id,
                invitation_id=event.invitation_id,
                email=event.email,
                expires_at=event.expires_at,
            ),
        )
    else:
        envelope = ClientActivated.new(
            office_id=event.office_id,
            correlation_id=correlation,
            payload=ClientActivatedPayload(client_id=event.client_id, by=ActivatedBy(event.by)),
        )
    return envelope.model_copy(update={"causation_id": causation})
