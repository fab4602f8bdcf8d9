"""Client events: ClientCreated, ClientUpdated, ClientInvited, ClientActivated, and the snapshot.

The snapshot is the whole client as the clients service owns it, so read models elsewhere
(delivery, invitations, ubl) are rebuilt from events alone. ClientState carries it on a compacted
topic keyed by client id: the newest record of each key is that client as it is now, so a read
model lost (or a service deployed later) is rebuilt by reading that topic from its beginning.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field

from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import (
    AccountingSoftware,
    ClientStatus,
    Language,
    SubscriptionMode,
    TransferMethod,
    VatFrequency,
)


class VatCheck(StrEnum):
    """Outcome of the register (VIES) lookup; ``pending`` is re-checked later, never assumed valid."""

    VALID = "valid"
    INVALID = "invalid"
    PENDING = "pending"
    SKIPPED = "skipped"


class Company(Payload):
    vat_number: str
    name: str
    vat_frequency: VatFrequency
    internal_reference: str | None = None
    subscription_mode: SubscriptionMode
    coda_plus: bool = False


class ClientUser(Payload):
    first_name: str
    last_name: str
    email: str
    mobile_phone: str
    language: Language


class ManualTarget(Payload):
    kind: Literal[TransferMethod.MANUAL] = TransferMethod.MANUAL


class EmailTarget(Payload):
    """One address per document type, or ``all`` for a single address for every type."""

    kind: Literal[TransferMethod.EMAIL] = TransferMethod.EMAIL
    all: str | None = None
    purchase: str | None = None
    sales: str | None = None
    misc: str | None = None


class SftpTarget(Payload):
    kind: Literal[TransferMethod.SFTP] = TransferMethod.SFTP
    connection: str
    folder: str


class AgentTarget(Payload):
    kind: Literal[TransferMethod.AGENT] = TransferMethod.AGENT
    connection: str
    folder: str


class OneDriveTarget(Payload):
    kind: Literal[TransferMethod.ONEDRIVE] = TransferMethod.ONEDRIVE
    folder: str


class ApiTarget(Payload):
    kind: Literal[TransferMethod.API] = TransferMethod.API


DeliveryTarget = Annotated[
    ManualTarget | EmailTarget | SftpTarget | AgentTarget | OneDriveTarget | ApiTarget,
    Field(discriminator="kind"),
]


class SendTiming(StrEnum):
    IMMEDIATELY = "immediately"
    AFTER_PROCESSING = "after_processing"
    DELAYED = "delayed"


class Timing(Payload):
    when: SendTiming
    delay_days: int | None = Field(default=None, ge=1, le=365)


class CreditCardStatements(StrEnum):
    WITH_PURCHASES = "with_purchases"
    WITH_MISC = "with_misc"


class Integration(Payload):
    target: DeliveryTarget = Field(default_factory=ManualTarget)
    timing: Timing | None = None  # None: follow the office's general settings
    accounting_software: AccountingSoftware | None = None
    credit_card_statements: CreditCardStatements | None = None


class SalesLedgerAccount(Payload):
    code: str
    label: str
    default: bool = False


class FollowTransactions(StrEnum):
    NO = "no"
    EXPENSES_ONLY = "expenses_only"
    ALL = "all"


class TaskListSettings(Payload):
    follow_from: date | None = None  # None: from the registration date
    follow_transactions_without_documents: FollowTransactions = FollowTransactions.NO
    hide_documents_without_transactions: bool = False


class ClientData(Payload):
    """Everything an accountant fills in for a client (the "+ Add client" form, an import row)."""

    company: Company
    user: ClientUser
    bank_accounts: list[str] = Field(default_factory=list)
    group_id: str
    integration: Integration = Field(default_factory=Integration)
    sales_ledger_accounts: list[SalesLedgerAccount] = Field(default_factory=list)
    task_list: TaskListSettings = Field(default_factory=TaskListSettings)


class ClientSnapshot(ClientData):
    client_id: str
    version: int
    status: ClientStatus
    vat_check: VatCheck
    created_at: datetime
    updated_at: datetime
    # Archived by its office (out of the lists, its data kept; restorable): since when. None:
    # not archived. Consumers may stop acting for an archived client.
    archived_at: datetime | None = None


class ImportOrigin(Payload):
    import_id: str
    row_number: int


class ClientCreatedPayload(Payload):
    client: ClientSnapshot
    invite: bool = False  # "invite right away" from an import row
    origin: ImportOrigin | None = None


class ClientUpdatedPayload(Payload):
    client: ClientSnapshot
    changed: list[str] = Field(default_factory=list)  # top-level field paths, e.g. "user.email"


class ClientStatePayload(Payload):
    client: ClientSnapshot


class ClientInvitedPayload(Payload):
    client_id: str
    invitation_id: str
    email: str
    expires_at: datetime


class ClientInvitationRevokedPayload(Payload):
    client_id: str
    invitation_id: str


class ClientInvitationFailedPayload(Payload):
    """The invitation e-mail could not be delivered (a permanent refusal, or it gave up)."""

    client_id: str
    invitation_id: str
    reason: str  # a stable code, e.g. "mail.rejected"; never a secret
    detail: str = ""  # what the relay said


class ActivatedBy(StrEnum):
    CLIENT = "client"
    ACCOUNTANT = "accountant"


class ClientActivatedPayload(Payload):
    client_id: str
    by: ActivatedBy


class ClientCreated(Envelope[ClientCreatedPayload]):
    EVENT_TYPE: ClassVar[str] = "ClientCreated"
    event_type: Literal["ClientCreated"] = "ClientCreated"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client.client_id


class ClientUpdated(Envelope[ClientUpdatedPayload]):
    EVENT_TYPE: ClassVar[str] = "ClientUpdated"
    event_type: Literal["ClientUpdated"] = "ClientUpdated"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client.client_id


class ClientState(Envelope[ClientStatePayload]):
    """The client's current state (its snapshot and version), on a compacted topic keyed by client
    id. Written with every ClientCreated / ClientUpdated, in the same transaction, and again by
    the clients service's ``republish_states`` command; a consumer keeps a version only when it is
    newer than the one it has (a republished state may arrive beside a live event)."""

    EVENT_TYPE: ClassVar[str] = "ClientState"
    event_type: Literal["ClientState"] = "ClientState"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client.client_id

    @classmethod
    def of(cls, office_id: str, client: ClientSnapshot, caused_by: Envelope[Any] | None) -> Self:
        return cls.new(
            office_id=office_id, payload=ClientStatePayload(client=client), caused_by=caused_by
        )


class ClientInvited(Envelope[ClientInvitedPayload]):
    EVENT_TYPE: ClassVar[str] = "ClientInvited"
    event_type: Literal["ClientInvited"] = "ClientInvited"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client_id


class ClientActivated(Envelope[ClientActivatedPayload]):
    EVENT_TYPE: ClassVar[str] = "ClientActivated"
    event_type: Literal["ClientActivated"] = "ClientActivated"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client_id


class ClientInvitationRevoked(Envelope[ClientInvitationRevokedPayload]):
    """The office revoked the open invitation: the link is void, the client is not invited."""

    EVENT_TYPE: ClassVar[str] = "ClientInvitationRevoked"
    event_type: Literal["ClientInvitationRevoked"] = "ClientInvitationRevoked"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client_id


class ClientInvitationFailed(Envelope[ClientInvitationFailedPayload]):
    EVENT_TYPE: ClassVar[str] = "ClientInvitationFailed"
    event_type: Literal["ClientInvitationFailed"] = "ClientInvitationFailed"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.client_id
