"""The loop behind every relay: a pass again at once while it finds work, otherwise after a pause
that a ``wake()`` cuts short.

Shared by the outbox relays of servicekit, clients, importer and invitations, which differed only
in their pass. With ``idle_max_s`` above ``poll_interval_s`` an empty pass doubles the pause up to
that bound (a pass that scans a collection need not run every 0.2 s when nothing comes); a wake
or a pass that found work brings it back to ``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class PollingLoop:
    def __init__(
        self,
        pass_once: Callable[[], Awaitable[int]],
        *,
        name: str,
        poll_interval_s: float,
        idle_max_s: float | None = None,
    ) -> None:
        self.pass_once = pass_once  # returns how much it did; 0 = nothing to do
        self.name = name
        self.poll_interval_s = poll_interval_s
        self.idle_max_s = max(idle_max_s or poll_interval_s, poll_interval_s)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Run a pass now rather than after the pause (called after a write with work)."""
        self._wake.set()

    async def run(self) -> None:
        pause = self.poll_interval_s
        while True:
            try:
                done = await self.pass_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s pass failed; retrying", self.name)
                done = 0
            if done:
                pause = self.poll_interval_s
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives just after the wake (CPython gh-86296), and stop() then waits forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()
            woken = self._wake.is_set()
            self._wake.clear()
            pause = self.poll_interval_s if woken else min(pause * 2, self.idle_max_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
