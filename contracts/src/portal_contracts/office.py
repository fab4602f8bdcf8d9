"""Office events: OfficeSettingsChanged carries an office's general settings (the transfer methods
it enabled, the default timing of deliveries, where credit-card statements go) to the services
that act on them, so they need not ask the clients service on their hot path. OfficeProfileChanged
carries the office's own profile (its name, the languages it works in, the sender name of its
e-mails), owned by the clients service, to invitations and delivery. Both are versioned: a
consumer keeps the highest version it has seen."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.clients import CreditCardStatements, SendTiming, Timing
from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import Language, TransferMethod


class OfficeSettingsChangedPayload(Payload):
    version: int = Field(ge=1)
    enabled_transfer_methods: list[TransferMethod] = Field(
        default_factory=lambda: [TransferMethod.MANUAL]
    )
    default_timing: Timing = Field(default_factory=lambda: Timing(when=SendTiming.AFTER_PROCESSING))
    credit_card_statements: CreditCardStatements = CreditCardStatements.WITH_PURCHASES


class OfficeSettingsChanged(Envelope[OfficeSettingsChangedPayload]):
    EVENT_TYPE: ClassVar[str] = "OfficeSettingsChanged"
    event_type: Literal["OfficeSettingsChanged"] = "OfficeSettingsChanged"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.office_id


class OfficeProfileChangedPayload(Payload):
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=120)
    languages: list[Language] = Field(min_length=1, description="the first is the default")
    sender_name: str | None = Field(
        None, max_length=70, description="the name e-mails come from; None: the office's name"
    )


class OfficeProfileChanged(Envelope[OfficeProfileChangedPayload]):
    EVENT_TYPE: ClassVar[str] = "OfficeProfileChanged"
    event_type: Literal["OfficeProfileChanged"] = "OfficeProfileChanged"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.office_id
