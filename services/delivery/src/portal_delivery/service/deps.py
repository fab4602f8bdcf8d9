"""Everything a delivery handler may use, wired by bootstrap.py (real adapters) or tests (fakes)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from portal_delivery.domain.retry import RetryPolicy
from portal_delivery.ports import (
    AgentKeys,
    ClientRoutes,
    Clock,
    ConnectionStore,
    Destinations,
    DocumentFiles,
    Ledger,
    OfficeDefaultsStore,
    OfficeSenderNames,
    PullQueue,
    WaitingDocuments,
)


class SystemClock:
    def now(self) -> datetime:
        # Milliseconds: what MongoDB stores, so a delivery read back equals the one written.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Deps:
    routes: ClientRoutes
    offices: OfficeDefaultsStore
    sender_names: OfficeSenderNames
    waiting: WaitingDocuments
    ledger: Ledger
    connections: ConnectionStore
    files: DocumentFiles
    destinations: Destinations
    agent_keys: AgentKeys
    pull: PullQueue
    clock: Clock = field(default_factory=SystemClock)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=random.Random)
    # How long a dispatched request or a running attempt holds its delivery before it is due
    # again (a lost request, a worker that died): well above the slowest channel's attempt.
    lease: timedelta = timedelta(minutes=2)
    # How long an agent holds an item it fetched before it is offered again (its ack is
    # accepted later too, while nobody else took it).
    agent_lease: timedelta = timedelta(minutes=5)
