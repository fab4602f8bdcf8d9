"""Everything a handler may use, wired once by bootstrap.py (real adapters) or by tests (fakes)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from portal_clients.domain.office import EVERYONE
from portal_clients.domain.vat import RecheckPolicy
from portal_clients.ports import (
    ClientStore,
    Clock,
    GroupStore,
    ImportStore,
    Quota,
    SettingsStore,
    VatRegister,
)
from portal_contracts.identity import Caller, Role


class SystemClock:
    def now(self) -> datetime:
        # Milliseconds: what MongoDB stores, so an event's snapshot equals what a read returns.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def today(self) -> date:
        return self.now().date()


@dataclass
class Deps:
    clients: ClientStore
    groups: GroupStore
    settings: SettingsStore
    register: VatRegister
    imports: ImportStore
    quota: Quota
    clock: Clock = field(default_factory=SystemClock)
    recheck_policy: RecheckPolicy = field(default_factory=RecheckPolicy)
    recheck_lease: timedelta = timedelta(minutes=5)
    jitter: random.Random = field(default_factory=random.Random)


def visible_groups(caller: Caller) -> frozenset[str] | None:
    """None for an admin (every group); a staff member sees their groups and "Everyone"."""
    if caller.role is Role.ADMIN:
        return None
    return frozenset(caller.groups) | {EVERYONE}


def sees(caller: Caller, group_id: str) -> bool:
    groups = visible_groups(caller)
    return groups is None or group_id in groups
