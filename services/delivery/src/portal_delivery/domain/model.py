"""What delivery knows of a client and of its office (read models built from their events)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal_contracts.clients import (
    ClientSnapshot,
    CreditCardStatements,
    Integration,
    SendTiming,
    Timing,
)
from portal_contracts.office import OfficeSettingsChangedPayload
from portal_contracts.values import TransferMethod


@dataclass(frozen=True)
class ClientRoute:
    """The integration settings of one client, as of a given snapshot version, with the few
    company facts a delivery needs (folder templates, the Clearfacts administration, tenancy)."""

    office_id: str
    client_id: str
    version: int
    integration: Integration
    group_id: str = "everyone"
    vat_number: str = ""
    company_name: str = ""
    internal_reference: str = ""

    @classmethod
    def from_snapshot(cls, office_id: str, snapshot: ClientSnapshot) -> ClientRoute:
        return cls(
            office_id,
            snapshot.client_id,
            snapshot.version,
            snapshot.integration,
            group_id=snapshot.group_id,
            vat_number=snapshot.company.vat_number,
            company_name=snapshot.company.name,
            internal_reference=snapshot.company.internal_reference or "",
        )

    def is_newer_than(self, other: ClientRoute | None) -> bool:
        # Events of one client are ordered by key, but a replay may bring an old snapshot back.
        return other is None or self.version > other.version


@dataclass(frozen=True)
class OfficeDefaults:
    """The office's general settings that decide a delivery when the client has no exception.

    Version 0 is "never received": the clients service's own defaults (after processing;
    credit-card statements with the purchases)."""

    office_id: str
    version: int = 0
    timing: Timing = field(default_factory=lambda: Timing(when=SendTiming.AFTER_PROCESSING))
    credit_card_statements: CreditCardStatements = CreditCardStatements.WITH_PURCHASES
    enabled_methods: frozenset[TransferMethod] = frozenset({TransferMethod.MANUAL})

    @classmethod
    def from_event(cls, office_id: str, payload: OfficeSettingsChangedPayload) -> OfficeDefaults:
        return cls(
            office_id,
            payload.version,
            payload.default_timing,
            payload.credit_card_statements,
            frozenset(payload.enabled_transfer_methods) | {TransferMethod.MANUAL},
        )
