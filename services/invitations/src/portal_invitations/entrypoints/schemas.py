"""Request and response bodies of the HTTP API (kept apart from the event contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_invitations.domain.model import ClientAccess, Invitation, PastInvitation


class InvitationPublic(BaseModel):
    invitation_id: str
    state: str
    email: str
    origin: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    expires_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    last_error: str | None
    failure_reason: str | None

    @classmethod
    def of(cls, inv: Invitation, now: datetime) -> InvitationPublic:
        return cls(
            invitation_id=inv.invitation_id,
            state=inv.effective_state(now).value,
            email=inv.email,
            origin=inv.origin,
            created_at=inv.created_at,
            attempts=inv.attempts,
            next_attempt_at=inv.next_attempt_at,
            sent_at=inv.sent_at,
            expires_at=inv.expires_at if inv.sent_at else None,
            ended_at=inv.ended_at,
            end_reason=inv.end_reason,
            last_error=inv.last_error,
            failure_reason=inv.failure_reason,
        )


class PastInvitationPublic(BaseModel):
    invitation_id: str
    state: str
    ended_at: datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, past: PastInvitation) -> PastInvitationPublic:
        return cls(
            invitation_id=past.invitation_id,
            state=past.state.value,
            ended_at=past.ended_at,
            end_reason=past.end_reason,
        )


class ClientAccessPublic(BaseModel):
    client_id: str
    active: bool
    activated_by: str | None
    activated_at: datetime | None
    invitation: InvitationPublic | None
    previous_invitations: list[PastInvitationPublic]

    @classmethod
    def of(cls, access: ClientAccess, now: datetime) -> ClientAccessPublic:
        inv = access.invitation
        return cls(
            client_id=access.client_id,
            active=access.is_active,
            activated_by=access.activated_by,
            activated_at=access.activated_at,
            invitation=InvitationPublic.of(inv, now) if inv is not None else None,
            previous_invitations=[PastInvitationPublic.of(p) for p in reversed(access.past)],
        )


class AcceptInvitationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=512)
    password: str = Field(min_length=1, max_length=1024)
    mobile_phone: str = Field(min_length=1, max_length=64)


class AcceptedPublic(BaseModel):
    client_id: str
    login: str
    active: bool = True


class LinkPublic(BaseModel):
    """What an invitation link opens. ``office_name`` and ``login`` only for a valid link."""

    state: Literal["valid", "used", "expired", "revoked", "invalid"]
    language: str | None = None
    office_name: str | None = None
    login: str | None = None


class PasswordPolicyPublic(BaseModel):
    min_length: int
    max_length: int
    rules: list[str]
