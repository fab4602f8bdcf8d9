"""PollingLoop: passes again at once while there is work, pauses otherwise (a wake cuts the pause
short, empty passes lengthen it up to its bound), and survives a failing pass."""

from __future__ import annotations

import asyncio
import itertools

from portal_servicekit.polling import PollingLoop


async def test_work_is_drained_at_once_then_a_wake_starts_the_next_pass() -> None:
    backlog = [3]
    passes: list[int] = []

    async def one_pass() -> int:
        passes.append(backlog[0])
        if backlog[0]:
            backlog[0] -= 1
            return 1
        return 0

    loop = PollingLoop(one_pass, name="test", poll_interval_s=60)
    loop.start()
    try:
        await asyncio.sleep(0.05)
        assert passes == [3, 2, 1, 0]  # no pause while passes find work
        backlog[0] = 1
        loop.wake()  # a 60 s pause, cut short
        await asyncio.sleep(0.05)
        assert passes == [3, 2, 1, 0, 1, 0]
    finally:
        await loop.stop()


async def test_a_failing_pass_is_retried_and_empty_passes_back_off() -> None:
    calls: list[float] = []

    async def one_pass() -> int:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 1:
            raise RuntimeError("database away")
        return 0

    loop = PollingLoop(one_pass, name="test", poll_interval_s=0.02, idle_max_s=0.08)
    loop.start()
    try:
        await asyncio.sleep(0.5)
    finally:
        await loop.stop()
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert len(calls) >= 4  # the failure did not end the loop
    assert gaps[2] > gaps[0]  # pauses grew: 0.02, 0.04, 0.08 ...
    assert max(gaps) < 0.4  # ... but stayed near their bound (0.08 s)


async def test_stop_ends_the_loop_even_right_after_a_wake() -> None:
    """A wake just before stop() (a relay woken by the sender's last write at shut-down) must
    not swallow the cancellation: with asyncio.wait_for on Python 3.11 it did, the loop ran on
    and the worker's shut-down waited forever. Each tick count puts the cancel at another point
    of the wake's path through the event loop."""

    async def nothing() -> int:
        return 0

    for ticks in range(6):
        loop = PollingLoop(nothing, name="test", poll_interval_s=0.1)
        loop.start()
        task = loop._task
        assert task is not None
        await asyncio.sleep(0.02)  # the loop is in its pause
        loop.wake()
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        assert done, f"the loop ran on after a cancel {ticks} tick(s) after a wake"
        await loop.stop()
