"""``ClientAccess`` to and from its MongoDB document (one document per client).

``due_at`` (top level, only while an invitation waits for its e-mail or an attempt is under way)
is the send queue: the sender reads an index on it. ``invitation.token_hashes`` is indexed for
acceptance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import (
    ClientAccess,
    ClientProfile,
    Invitation,
    InvitationState,
    Login,
    PastInvitation,
)

Document = dict[str, Any]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _fields(value: object) -> Document:
    """A dataclass's fields, shallow (``asdict`` deep-copies every value: a tenth of the
    sender's CPU when it was used here)."""
    return dict(vars(value))


def _invitation_doc(inv: Invitation) -> Document:
    return {
        **_fields(inv),
        "state": inv.state.value,
        "cause": _fields(inv.cause),
        "token_hashes": list(inv.token_hashes),
    }


def _invitation(doc: Document) -> Invitation:
    times = (
        "created_at",
        "expires_at",
        "next_attempt_at",
        "in_flight_until",
        "sent_at",
        "ended_at",
    )
    values: dict[str, Any] = {k: (_utc(v) if k in times else v) for k, v in doc.items()}
    values["state"] = InvitationState(doc["state"])
    values["cause"] = Cause(**(doc.get("cause") or {}))
    values["token_hashes"] = list(doc.get("token_hashes") or [])
    return Invitation(**values)


def to_document(access: ClientAccess, version: int) -> Document:
    """The whole document of ``access`` as stored at ``version``."""
    inv = access.invitation
    doc: Document = {
        "_id": access.client_id,
        "version": version,
        "office_id": access.office_id,
        "client": _fields(access.profile),
        "invitation": _invitation_doc(inv) if inv is not None else None,
        "past": [{**_fields(p), "state": p.state.value} for p in access.past],
        "activated_by": access.activated_by,
        "activated_at": access.activated_at,
        "login": _fields(access.login) if access.login is not None else None,
    }
    if access.send_due_at is not None:
        doc["due_at"] = access.send_due_at  # absent: out of the (partial) queue index
    return doc


def from_document(doc: Document) -> ClientAccess:
    login = doc.get("login")
    return ClientAccess(
        profile=ClientProfile(**doc["client"]),
        invitation=_invitation(doc["invitation"]) if doc.get("invitation") else None,
        past=[
            PastInvitation(
                invitation_id=p["invitation_id"],
                state=InvitationState(p["state"]),
                ended_at=_utc(p.get("ended_at")),
                end_reason=p.get("end_reason"),
            )
            for p in doc.get("past", [])
        ],
        activated_by=doc.get("activated_by"),
        activated_at=_utc(doc.get("activated_at")),
        login=Login(
            login["email"], login["password_hash"], _utc(login["created_at"]) or login["created_at"]
        )
        if login
        else None,
        version=int(doc["version"]),
    )
