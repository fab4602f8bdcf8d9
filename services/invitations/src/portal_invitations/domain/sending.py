"""Sending rules: retry delays with jitter, the per-office hourly window, the accept-guess window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the delay is fixed, half random.

    The fixed half keeps retries from hammering a relay that is down; the random half spreads
    thousands of queued invitations so they do not all come back at the same second.
    """

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=10)
    max_attempts: int = 60  # with the cap, about 9 hours of outage before giving up
    lease: timedelta = timedelta(minutes=2)  # an attempt whose outcome is unknown after this

    def delay(self, attempt: int, jitter: float) -> timedelta:
        """Delay after the ``attempt``-th failure; ``jitter`` is a random number in [0, 1)."""
        exponent = min(max(attempt - 1, 0), 30)
        full: timedelta = min(self.cap, self.base * (2**exponent))
        half = full / 2
        return half + half * jitter


def hour_window(now: datetime) -> datetime:
    """Start of the clock hour: per-office sending limits count invitations per clock hour."""
    return now.replace(minute=0, second=0, microsecond=0)


def window_start(now: datetime, window: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return epoch + ((now - epoch) // window) * window


def sliding_estimate(previous: int, current: int, elapsed_fraction: float) -> float:
    """Sliding-window counter: the previous fixed window weighs by how much of it still overlaps."""
    return previous * (1.0 - elapsed_fraction) + current
