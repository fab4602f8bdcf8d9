"""Everything a handler may use, wired once by bootstrap.py (real adapters) or by tests (fakes)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from portal_clients.domain.vat import RecheckPolicy
from portal_clients.ports import (
    ClientStore,
    Clock,
    ConnectionNames,
    GroupStore,
    ImportStore,
    ProfileStore,
    Quota,
    SettingsStore,
    VatRegister,
)
from portal_contracts.identity import Caller


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
    profiles: ProfileStore
    connections: ConnectionNames
    register: VatRegister
    imports: ImportStore
    quota: Quota
    clock: Clock = field(default_factory=SystemClock)
    recheck_policy: RecheckPolicy = field(default_factory=RecheckPolicy)
    recheck_lease: timedelta = timedelta(minutes=5)
    jitter: random.Random = field(default_factory=random.Random)


def visible_groups(caller: Caller) -> frozenset[str] | None:
    """The one rule every service applies (contracts): an admin every group, staff their
    groups and "Everyone"."""
    return caller.visible_groups()


def sees(caller: Caller, group_id: str) -> bool:
    return caller.sees_group(group_id)
