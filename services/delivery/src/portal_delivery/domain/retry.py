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
    ``open_for`` to ``open_for_max``; other destinations go on.

    ``failures_to_open`` failures in a row open it. Once open, failures of attempts that were
    already in flight do not count (16 sessions failing in the same millisecond are one outage,
    not sixteen); after the pause one attempt goes through, and if it fails the pause doubles —
    per reopening, never per failure. One success closes it."""

    failures_to_open: int = 5
    open_for: timedelta = timedelta(minutes=5)
    open_for_max: timedelta = timedelta(hours=1)

    def opens(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.failures_to_open

    def pause(self, times_opened_before: int) -> timedelta:
        """The pause of the breaker's next opening, after ``times_opened_before`` in a row."""
        pause: timedelta = min(self.open_for_max, self.open_for * 2 ** min(times_opened_before, 10))
        return pause
