"""What the edges ask the service to do: plain data, no framework types."""

from __future__ import annotations

from dataclasses import dataclass

from portal_contracts.identity import Caller
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientProfile
from portal_invitations.domain.office import OfficeProfile


@dataclass(frozen=True)
class RecordClient:
    """A ClientCreated or ClientUpdated snapshot; ``invite``: the import's "invite right away"."""

    profile: ClientProfile
    event_id: str
    cause: Cause
    invite: bool = False


@dataclass(frozen=True)
class RecordClients:
    """A batch of snapshots as consumed (an import brings thousands), in their order."""

    items: tuple[RecordClient, ...]


@dataclass(frozen=True)
class Accountant:
    """The caller of an accountant action: tenancy (office) and visibility (groups)."""

    office_id: str
    user_id: str
    groups: frozenset[str] | None  # None: an admin sees every group

    @classmethod
    def of(cls, caller: Caller) -> Accountant:
        """The one visibility rule of the platform: their groups and "Everyone" (contracts)."""
        return cls(caller.office_id, caller.user_id, caller.visible_groups())


@dataclass(frozen=True)
class ShowInvitation:
    client_id: str
    by: Accountant


@dataclass(frozen=True)
class InviteClient:
    client_id: str
    by: Accountant


@dataclass(frozen=True)
class RevokeInvitation:
    client_id: str
    by: Accountant


@dataclass(frozen=True)
class ActivateClient:
    client_id: str
    by: Accountant


@dataclass(frozen=True)
class AcceptInvitation:
    token: str
    password: str
    mobile_phone: str
    client_address: str  # see entrypoints/client_address.py


@dataclass(frozen=True)
class InspectLink:
    """The onboarding page asking what a link opens before it shows the form."""

    token: str
    client_address: str


@dataclass(frozen=True)
class RememberOfficeProfile:
    """OfficeProfileChanged from clients: the office's name and sender name, newest wins."""

    office_id: str
    version: int
    profile: OfficeProfile
