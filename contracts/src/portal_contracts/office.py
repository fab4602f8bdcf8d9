"""Office events: OfficeSettingsChanged carries an office's general settings (the transfer methods
it enabled, the default timing of deliveries, where credit-card statements go) to the services
that act on them, so they need not ask the clients service on their hot path."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.clients import CreditCardStatements, SendTiming, Timing
from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import TransferMethod


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
