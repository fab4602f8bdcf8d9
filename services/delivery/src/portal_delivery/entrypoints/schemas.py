"""Request and response bodies of the delivery API (kept apart from the event contracts).

No response model has a field for a secret's value: a connection shows which secrets are set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portal_delivery.domain.connections import Kind
from portal_delivery.domain.delivery import Delivery
from portal_servicekit.problems import message


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    kind: Kind
    settings: dict[str, str | int] = Field(default_factory=dict, max_length=20)
    # Write-only: never echoed. Left out on an edit = keep the stored one.
    secrets: dict[str, str] = Field(default_factory=dict, max_length=5)


class ConnectionPublic(BaseModel):
    name: str
    kind: str
    settings: dict[str, Any]
    secrets_set: list[str]
    version: int
    # OneDrive: where the office's Microsoft 365 admin grants the app its permissions (once).
    admin_consent_url: str | None = None


class AgentKeyPublic(BaseModel):
    key_id: str
    created_at: datetime
    last_seen_at: datetime | None


class AgentKeyIssued(AgentKeyPublic):
    """The one answer that carries an agent's token: when it is issued (it is kept as a hash)."""

    token: str


class ConnectionCreated(ConnectionPublic):
    agent_key: AgentKeyIssued | None = None  # an agent connection comes with its first key


class HostKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host_key: str = Field(min_length=20, max_length=2000)


class ProbePublic(BaseModel):
    ok: bool
    host_key_shown: str | None
    code: str | None
    message: str | None


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender: str = Field(min_length=3, max_length=254)
    display_name: str = Field(default="", max_length=100)


class IdentityPublic(BaseModel):
    sender: str
    display_name: str
    own: bool  # False: the platform's address is used until the office sets its own


class AttemptPublic(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    sent: list[dict[str, Any]]  # the proof: name, sha256 and size of each file sent
    receipt: dict[str, Any]
    problem: str | None  # in the reader's language
    retry_at: datetime | None = None  # a transient failure: when it was (or is) tried again


class DeliveryPublic(BaseModel):
    delivery_id: str
    document_id: str
    client_id: str
    kind: str
    channel: str
    destination: str
    folder: str
    state: str
    due_at: datetime | None
    created_at: datetime
    timing: dict[str, Any]
    attempts: list[AttemptPublic]
    last_error: str | None
    last_error_code: str | None
    version: int

    @classmethod
    def of(cls, d: Delivery, lang: str) -> DeliveryPublic:
        problem = d.last_problem
        return cls(
            delivery_id=d.delivery_id,
            document_id=d.document_id,
            client_id=d.client_id,
            kind=d.kind.value,
            channel=d.channel.value,
            destination=d.destination,
            folder=d.folder,
            state=d.state.value,
            due_at=d.due_at,
            created_at=d.created_at,
            timing=d.timing,
            attempts=[
                AttemptPublic(
                    number=a.number,
                    started_at=a.started_at,
                    finished_at=a.finished_at,
                    outcome=a.outcome,
                    sent=a.sent,
                    receipt=a.receipt,
                    problem=message(a.problem["code"], lang, detail=a.problem.get("detail", ""))
                    if a.problem
                    else None,
                    retry_at=a.retry_at,
                )
                for a in d.attempts
            ],
            last_error=message(problem.code, lang, detail=problem.detail) if problem else None,
            last_error_code=problem.code if problem else None,
            version=d.version,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None
