"""The per-destination breaker on the real MongoDB-wire server: a burst of failures of attempts in
flight together opens it once, for the first pause; each reopening doubles it; a success closes it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from portal_delivery.adapters.destinations import MongoDestinations
from portal_delivery.domain.retry import BreakerPolicy

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = BreakerPolicy(failures_to_open=5, open_for=timedelta(minutes=5))


async def test_sixteen_sessions_failing_at_once_pause_it_once(
    mongo_db: Any, mongodb_uri: str
) -> None:
    # The services' client reads dates back with their time zone (servicekit.mongo).
    aware: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        await _breaker_story(MongoDestinations(aware[mongo_db.name], POLICY, memo_s=0), mongo_db)
    finally:
        await aware.close()


async def _breaker_story(breaker: MongoDestinations, mongo_db: Any) -> None:
    await asyncio.gather(*(breaker.failed("sftp:office", NOW) for _ in range(16)))
    assert await breaker.paused_until("sftp:office", NOW) == NOW + timedelta(minutes=5)
    doc = await mongo_db["destinations"].find_one({"_id": "sftp:office"})
    assert doc["opened"] == 1
    assert 5 <= doc["failures"] <= 16  # those in flight after it opened are not counted
    await breaker.failed("sftp:office", NOW + timedelta(minutes=1))  # still paused: ignored
    assert await breaker.paused_until("sftp:office", NOW) == NOW + timedelta(minutes=5)

    later = NOW + timedelta(minutes=5)  # the pause is over: one attempt fails again
    await asyncio.gather(*(breaker.failed("sftp:office", later) for _ in range(4)))
    assert await breaker.paused_until("sftp:office", later) == later + timedelta(minutes=10)
    assert await breaker.paused_until("sftp:other", later) is None  # others go on

    await breaker.succeeded("sftp:office")
    assert await breaker.paused_until("sftp:office", later) is None
    again = later + timedelta(minutes=20)
    for _ in range(4):
        await breaker.failed("sftp:office", again)
    assert await breaker.paused_until("sftp:office", again) is None  # counting from zero
    await breaker.failed("sftp:office", again)
    assert await breaker.paused_until("sftp:office", again) == again + timedelta(minutes=5)


def test_the_pause_doubles_per_reopening_up_to_the_cap() -> None:
    assert [POLICY.pause(n) for n in (0, 1, 2)] == [timedelta(minutes=m) for m in (5, 10, 20)]
    assert POLICY.pause(50) == timedelta(hours=1)
    assert not POLICY.opens(4)
    assert POLICY.opens(5)


async def test_a_throttled_destination_waits_as_told_and_its_breaker_does_not_grow(
    mongo_db: Any, mongodb_uri: str
) -> None:
    aware: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        breaker = MongoDestinations(aware[mongo_db.name], POLICY, memo_s=0)
        retry_after = NOW + timedelta(seconds=30)
        await asyncio.gather(*(breaker.throttled("onedrive:o", retry_after) for _ in range(16)))
        assert await breaker.paused_until("onedrive:o", NOW) == retry_after
        await breaker.throttled("onedrive:o", NOW + timedelta(seconds=10))  # shorter: kept 30 s
        assert await breaker.paused_until("onedrive:o", NOW) == retry_after
        doc = await mongo_db["destinations"].find_one({"_id": "onedrive:o"})
        assert doc.get("failures", 0) == doc.get("opened", 0) == 0  # no outage counted
        assert await breaker.paused_until("onedrive:o", retry_after) is None  # then it goes on
        for _ in range(4):  # real failures after it still need five to open
            await breaker.failed("onedrive:o", retry_after)
        assert await breaker.paused_until("onedrive:o", retry_after) is None
    finally:
        await aware.close()
