"""What a VAT register (VIES, or the KBO for Belgian numbers) can answer, and when to ask again
after it did not answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from portal_contracts.clients import VatCheck


class RefusalReason(StrEnum):
    """Why a register said no (stable codes)."""

    STOPPED = "kbo.stopped"  # in the KBO, in a juridical situation that means stopped
    NOT_ACTIVE = "kbo.not_active"
    NOT_FOUND = "kbo.not_found"  # not in the loaded KBO extract
    VIES_INVALID = "vies.invalid"


# The refusals that say the company exists but has stopped (the others: unknown number).
_STOPPED = frozenset({RefusalReason.STOPPED, RefusalReason.NOT_ACTIVE})


@dataclass(frozen=True)
class VatCheckNote:
    """Why the register refused a client's number, kept on the client and shown on its row:
    the message code (``vat.not_registered``, ``vat.company_stopped``) and the register's
    words."""

    code: str
    detail: str


class RegisterVerdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"  # timeout, 5xx, member state down: never read as valid


@dataclass(frozen=True)
class RegisterAnswer:
    verdict: RegisterVerdict
    name: str | None = None
    address: str | None = None
    detail: str = ""  # the register's own words ("stopped (juridical situation 012: ...)")
    reason: str | None = None  # a stable code for a refusal ("kbo.stopped"); None: no reason

    def refusal_code(self) -> str:
        return "vat.company_stopped" if self.reason in _STOPPED else "vat.not_registered"

    def note(self) -> VatCheckNote | None:
        """What the client keeps of a refusal; None for any other answer."""
        if self.verdict is not RegisterVerdict.INVALID:
            return None
        return VatCheckNote(self.refusal_code(), self.detail)

    def as_check(self) -> VatCheck:
        if self.verdict is RegisterVerdict.VALID:
            return VatCheck.VALID
        if self.verdict is RegisterVerdict.INVALID:
            return VatCheck.INVALID
        return VatCheck.PENDING


@dataclass(frozen=True)
class RecheckPolicy:
    """Exponential backoff for pending checks; ``jitter`` in [0, 1) spreads a register outage's
    backlog so every pending client does not hit VIES in the same second when it comes back."""

    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=6)

    def delay(self, attempts: int, jitter: float) -> timedelta:
        base: timedelta = self.first_delay * int(2 ** max(0, attempts - 1))
        capped: timedelta = min(base, self.max_delay)
        return capped * (0.5 + jitter / 2)


def with_second_opinion(first: RegisterAnswer, second: RegisterAnswer) -> RegisterAnswer:
    """The first register did not know the number (``first`` is "no" or "unknown"): a clear yes
    of the second wins (a Belgian company registered for VAT after the monthly KBO extract was
    taken is in VIES already); the second's silence leaves the check pending; its "no" keeps
    the first answer."""
    if second.verdict is RegisterVerdict.VALID:
        return second
    if second.verdict is RegisterVerdict.UNAVAILABLE:
        words = "; ".join(d for d in (first.detail, second.detail) if d)
        return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail=words)
    return first
