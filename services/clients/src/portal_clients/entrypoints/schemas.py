"""Request and response bodies of the HTTP API (kept apart from the event contracts).

Client forms accept values as typed by a person ("0403.170.701", "+32 470 12 34 56"): the shared
client rules normalise and check them, and answer every broken rule at once. So the form types
here are deliberately loose; the response types are the normalised ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portal_clients.domain.invitation import (
    Action,
    ClientInvitation,
    InvitationState,
    allowed_actions,
)
from portal_clients.domain.listing import ClientSummary
from portal_clients.domain.model import Client
from portal_clients.domain.office import Group, OfficeProfile, OfficeSettings
from portal_contracts.clients import ClientSnapshot, Timing, VatCheck
from portal_contracts.values import (
    AccountingSoftware,
    ClientStatus,
    SubscriptionMode,
    TransferMethod,
)

Loose = str | int | float | bool | None


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompanyForm(_Form):
    vat_number: Loose = None
    name: Loose = None
    vat_frequency: Loose = Field(None, description="monthly | quarterly | not_liable")
    internal_reference: Loose = None
    subscription_mode: Loose = Field(
        None, description="full_follow_up | delivery_only | accountant_managed"
    )
    coda_plus: Loose = None


class UserForm(_Form):
    first_name: Loose = None
    last_name: Loose = None
    email: Loose = None
    mobile_phone: Loose = None
    language: Loose = Field(None, description="fr | nl | en")


class TargetForm(_Form):
    kind: Loose = Field(None, description="manual | email | sftp | onedrive | api | agent")
    all: Loose = None
    purchase: Loose = None
    sales: Loose = None
    misc: Loose = None
    connection: Loose = None
    folder: Loose = None


class TimingForm(_Form):
    when: Loose = Field(None, description="immediately | after_processing | delayed")
    delay_days: Loose = None


class IntegrationForm(_Form):
    target: TargetForm | None = None
    timing: TimingForm | None = Field(None, description="absent: follow the office settings")
    accounting_software: Loose = None
    credit_card_statements: Loose = Field(None, description="with_purchases | with_misc")


class LedgerAccountForm(_Form):
    code: Loose = None
    label: Loose = None
    default: Loose = None


class TaskListForm(_Form):
    follow_from: Loose = Field(None, description="YYYY-MM-DD; absent: the registration date")
    follow_transactions_without_documents: Loose = Field(
        None, description="no | expenses_only | all"
    )
    hide_documents_without_transactions: Loose = None


class ClientForm(_Form):
    """The "+ Add client" form (also the full body of an edit)."""

    company: CompanyForm = Field(default_factory=CompanyForm)
    user: UserForm = Field(default_factory=UserForm)
    bank_accounts: list[Loose] = Field(default_factory=list)
    group_id: Loose = Field(None, description='absent: "everyone"')
    integration: IntegrationForm = Field(default_factory=IntegrationForm)
    sales_ledger_accounts: list[LedgerAccountForm] = Field(default_factory=list)
    task_list: TaskListForm = Field(default_factory=TaskListForm)
    skip_vat_check: bool = Field(
        False, description="Don't ask the VAT register (the checksum is still checked)."
    )

    def raw(self) -> dict[str, Any]:
        return self.model_dump(exclude={"skip_vat_check"}, exclude_none=True)


class InvitationOut(BaseModel):
    """The client's last invitation as the invitations service reported it; absent (null): not
    invited, or the invitation was revoked."""

    model_config = ConfigDict(title="ClientInvitation")

    invitation_id: str
    state: InvitationState
    at: datetime
    reason: str | None = Field(None, description='failed: a stable code, e.g. "mail.rejected"')
    detail: str | None = Field(None, description="failed: what the mail relay said")

    @classmethod
    def of(cls, invitation: ClientInvitation | None) -> InvitationOut | None:
        if invitation is None:
            return None
        return cls.model_validate(invitation, from_attributes=True)


_REASON = Field(
    None,
    description='vat_check "invalid": why, a message code (vat.not_registered, '
    "vat.company_stopped)",
)
_DETAIL = Field(
    None,
    description='vat_check "invalid": the register\'s words, e.g. "not in the KBO", '
    '"stopped (juridical situation 012: bankruptcy)"',
)


class ClientPublic(ClientSnapshot):
    model_config = ConfigDict(title="Client")

    invitation: InvitationOut | None = None
    vat_check_reason: str | None = _REASON
    vat_check_detail: str | None = _DETAIL

    @classmethod
    def of(cls, client: Client) -> ClientPublic:
        # Built from the validated snapshot without validating it again (see Client.snapshot).
        note = client.vat_note
        return cls.model_construct(
            **dict(client.snapshot()),
            invitation=InvitationOut.of(client.invitation),
            vat_check_reason=note.code if note else None,
            vat_check_detail=note.detail if note else None,
        )


class ClientLine(BaseModel):
    client_id: str
    company_name: str
    vat_number: str
    internal_reference: str | None
    email: str
    first_name: str
    last_name: str
    status: ClientStatus
    group_id: str
    subscription_mode: SubscriptionMode
    vat_check: VatCheck
    vat_check_reason: str | None = _REASON
    vat_check_detail: str | None = _DETAIL
    version: int
    created_at: datetime
    invitation: InvitationOut | None = None
    transfer_method: TransferMethod = Field(
        TransferMethod.MANUAL, description="how the client's documents reach the office"
    )
    archived_at: datetime | None = Field(None, description="archived since (None: not archived)")
    group_name: str | None = Field(None, description="the group's name (None: a deleted group)")
    actions: list[Action] = Field(
        default_factory=list, description="what may be done now: invite, resend, revoke, activate"
    )

    @classmethod
    def of(cls, row: ClientSummary, group_names: Mapping[str, str]) -> ClientLine:
        line = cls.model_validate(row, from_attributes=True)
        line.group_name = group_names.get(row.group_id)
        managed = row.subscription_mode is SubscriptionMode.ACCOUNTANT_MANAGED
        archived = row.archived_at is not None
        line.actions = allowed_actions(row.status.value, managed, row.invitation, archived)
        return line


class ClientPageOut(BaseModel):
    items: list[ClientLine]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class AvailabilityIn(_Form):
    emails: list[str] = Field(default_factory=list, max_length=20_000)
    vat_numbers: list[str] = Field(default_factory=list, max_length=20_000)


class AvailabilityOut(BaseModel):
    """Per value as sent: ``available``; ``taken_in_office`` (a client of the caller's office
    that the caller sees uses it); ``unavailable`` (used elsewhere: cannot be used, nothing more
    is said); ``invalid`` (not an e-mail / VAT number)."""

    emails: dict[str, str] = Field(
        description="available | taken_in_office | unavailable | invalid"
    )
    vat_numbers: dict[str, str] = Field(
        description="available | taken_in_office | unavailable | invalid"
    )


class GroupIn(_Form):
    name: str = Field(min_length=1, max_length=100)


class StaffIn(_Form):
    user_ids: list[str] = Field(default_factory=list, max_length=1000)


class GroupOut(BaseModel):
    group_id: str
    name: str
    staff: list[str]
    version: int

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls(
            group_id=group.group_id,
            name=group.name,
            staff=sorted(group.staff),
            version=group.version,
        )


class ConnectionOut(BaseModel):
    name: str
    kind: TransferMethod


class SettingsOut(BaseModel):
    settings: OfficeSettings
    version: int
    # The office's delivery connections as clients knows them (from delivery's announcements);
    # None until delivery has announced any. Names only: delivery owns the connections.
    connections: list[ConnectionOut] | None = None


class ProfileOut(BaseModel):
    profile: OfficeProfile | None = Field(
        description="None until an admin saves it (e-mails then name no office)"
    )
    version: int


__all__ = [
    "AccountingSoftware",
    "AvailabilityIn",
    "AvailabilityOut",
    "ClientForm",
    "ClientLine",
    "ClientPageOut",
    "ClientPublic",
    "GroupIn",
    "GroupOut",
    "OfficeProfile",
    "OfficeSettings",
    "ProfileOut",
    "SettingsOut",
    "StaffIn",
    "Timing",
]
