"""What a VAT register (VIES, or the KBO for Belgian numbers) can answer, and when to ask again
after it did not answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from portal_contracts.clients import VatCheck


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
