"""When a failed attempt is tried again, and when we stop trying.

Transient failures (a relay answering 4xx, a server down, a throttled API) retry with
exponential back-off and jitter, from 1 minute up to 2 hours between attempts, and give up after
``give_up_after`` (24 h by default; DELIVERY.md §8 suggests 24–72 h). A ``Retry-After`` from the
remote side is honoured when it asks for longer than the back-off. Jitter keeps many deliveries to
one recovering server from coming back at the same second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=2)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(
        self, failures: int, rng: random.Random, retry_after: timedelta | None = None
    ) -> timedelta:
        """The wait after the ``failures``-th consecutive transient failure (1 = the first)."""
        ceiling: timedelta = min(self.cap, self.base * 2 ** max(failures - 1, 0))
        # "Equal jitter": at least half the back-off, so a retry is never immediate.
        wait: timedelta = ceiling / 2 + ceiling / 2 * rng.random()
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return wait


@dataclass(frozen=True)
class BreakerPolicy:
    """A destination that keeps failing is paused (not contacted) for a while, growing from
    ``open_for`` to ``open_for_max``; other destinations go on."""

    failures_to_open: int = 5
    open_for: timedelta = timedelta(minutes=5)
    open_for_max: timedelta = timedelta(hours=1)

    def pause(self, consecutive_failures: int) -> timedelta | None:
        if consecutive_failures < self.failures_to_open:
            return None
        doublings = consecutive_failures - self.failures_to_open
        pause: timedelta = min(self.open_for_max, self.open_for * 2 ** min(doublings, 10))
        return pause
