"""An office's general settings, its own profile, and the groups its clients and staff are
divided into."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal_contracts.clients import CreditCardStatements, SendTiming, Timing
from portal_contracts.office import (
    OfficeProfileChanged,
    OfficeProfileChangedPayload,
    OfficeSettingsChanged,
    OfficeSettingsChangedPayload,
)
from portal_contracts.values import AccountingSoftware, Language, TransferMethod

EVERYONE = "everyone"
EVERYONE_NAME = "Everyone"
# A staff member's id as the identity provider issues it (a login, a UUID, an e-mail): no
# spaces, slashes or control characters, so it is safe in a path, a log line or a header.
STAFF_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
# What may not be in a name that goes into an e-mail header (From, Subject): line breaks and
# other control characters (a "name" with CR LF would add headers of its own).
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


class OfficeSettings(BaseModel):
    """The office's "general settings": what clients may use and their defaults.

    ``manual`` is always allowed (no link with the software); it cannot be switched off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled_transfer_methods: frozenset[TransferMethod] = frozenset({TransferMethod.MANUAL})
    default_timing: Timing = Field(default_factory=lambda: Timing(when=SendTiming.AFTER_PROCESSING))
    credit_card_statements: CreditCardStatements = CreditCardStatements.WITH_PURCHASES
    accounting_softwares: tuple[AccountingSoftware, ...] = ()

    @field_validator("enabled_transfer_methods")
    @classmethod
    def _manual_always(cls, value: frozenset[TransferMethod]) -> frozenset[TransferMethod]:
        return value | {TransferMethod.MANUAL}

    @model_validator(mode="after")
    def _coherent(self) -> OfficeSettings:
        if self.default_timing.when is SendTiming.DELAYED and not self.default_timing.delay_days:
            raise ValueError("timing.delay_days")
        if self.default_timing.when is not SendTiming.DELAYED and self.default_timing.delay_days:
            raise ValueError("timing.delay_without_delayed")
        return self


def settings_changed(
    office_id: str, settings: OfficeSettings, version: int
) -> OfficeSettingsChanged:
    """What the other services keep of the settings (delivery: methods, default timing and
    where credit-card statements go), with the version that orders them."""
    payload = OfficeSettingsChangedPayload(
        version=version,
        enabled_transfer_methods=sorted(settings.enabled_transfer_methods, key=lambda m: m.value),
        default_timing=settings.default_timing,
        credit_card_statements=settings.credit_card_statements,
    )
    return OfficeSettingsChanged.new(office_id=office_id, payload=payload)


@dataclass
class Group:
    """Clients are in exactly one group; staff see the clients of the groups they belong to."""

    group_id: str
    office_id: str
    name: str
    staff: set[str] = field(default_factory=set)
    version: int = 1

    @property
    def is_everyone(self) -> bool:
        return self.group_id == EVERYONE

    @classmethod
    def everyone(cls, office_id: str) -> Group:
        return cls(group_id=EVERYONE, office_id=office_id, name=EVERYONE_NAME)


def malformed_staff_ids(staff: list[str]) -> list[int]:
    """Positions of the ids that are not staff ids (empty, too long, "../x", CR/LF...)."""
    return [i for i, user_id in enumerate(staff) if not STAFF_ID.fullmatch(user_id)]


def name_key(name: str) -> str:
    """Group names are unique in an office regardless of case and surrounding spaces."""
    return " ".join(name.split()).casefold()


class OfficeProfile(BaseModel):
    """The office as its clients see it: its name (in invitation e-mails and on the onboarding
    page), the languages it works in (the first is the default for its new clients), and the
    name its e-mails come from (None: its name). Carried to invitations and delivery by
    OfficeProfileChanged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    languages: tuple[Language, ...] = Field(min_length=1, max_length=len(Language))
    sender_name: str | None = Field(None, max_length=70)

    @field_validator("name", "sender_name", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if _NOT_IN_A_HEADER.search(value):
            raise ValueError("office.header_unsafe")
        return " ".join(value.split())

    @field_validator("sender_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("languages")
    @classmethod
    def _each_once(cls, value: tuple[Language, ...]) -> tuple[Language, ...]:
        if len(set(value)) != len(value):
            raise ValueError("office.languages_repeated")
        return value


def profile_changed(office_id: str, profile: OfficeProfile, version: int) -> OfficeProfileChanged:
    payload = OfficeProfileChangedPayload(
        version=version,
        name=profile.name,
        languages=list(profile.languages),
        sender_name=profile.sender_name,
    )
    return OfficeProfileChanged.new(office_id=office_id, payload=payload)
