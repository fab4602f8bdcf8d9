"""Concurrent writers on the real MongoDB-wire server: of writers of one version one wins; the
office quota and the guess counters count every concurrent request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal_invitations.adapters.mongo import MongoFailedAttempts, MongoOfficeQuota
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientAccess, ClientProfile
from portal_invitations.ports import Conflict

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def profile() -> ClientProfile:
    return ClientProfile(
        "c-1", "office-a", "everyone", "marie@example.be", "Marie", "Dubois", "fr",
        "full_follow_up", "not_invited", "+32470123456", 1,
    )  # fmt: skip


async def test_only_one_of_concurrent_writers_of_a_version_wins(make_harness: Any) -> None:
    store = (await make_harness()).service.deps.access
    await store.save(ClientAccess(profile=profile()))
    for round_ in range(5):
        loaded = [await store.get("c-1") for _ in range(8)]

        async def write(access: ClientAccess | None, n: int, round_: int = round_) -> bool:
            assert access is not None
            access.invite(f"inv-{round_}-{n}", NOW, "accountant", Cause())
            try:
                await store.save(access)
            except Conflict:
                return False
            return True

        wins = await asyncio.gather(*(write(a, n) for n, a in enumerate(loaded)))
        assert sum(wins) == 1
        stored = await store.get("c-1")
        assert stored is not None
        assert stored.version == round_ + 2
        winner = wins.index(True)
        assert stored.invitation is not None
        assert stored.invitation.invitation_id == f"inv-{round_}-{winner}"


async def test_a_client_is_stored_once_by_concurrent_inserts(make_harness: Any) -> None:
    store = (await make_harness()).service.deps.access
    attempts = [[ClientAccess(profile=profile())] for _ in range(6)]
    taken = await asyncio.gather(*(store.add_new(batch) for batch in attempts))
    assert sorted(len(t) for t in taken) == [0, 1, 1, 1, 1, 1]


async def test_the_office_quota_holds_under_concurrent_senders(mongo_db: Any) -> None:
    quota = MongoOfficeQuota(mongo_db, 12)
    asked = [1, 3, 1, 2, 1, 4, 1, 1, 2, 1] * 2  # single invitations and batches, 40 in all
    answers = await asyncio.gather(*(quota.reserve("office-a", NOW, n) for n in asked))
    assert sum(a.granted for a in answers) == 12
    assert (await mongo_db["office_send_quotas"].find_one({}))["count"] == 12
    for n, answer in zip(asked, answers, strict=True):
        full = None if answer.granted == n else datetime(2026, 3, 2, 10, tzinfo=UTC)
        assert answer.reopens == full
    assert (await quota.reserve("office-a", NOW + timedelta(hours=1), 2)).granted == 2


async def test_concurrent_failures_are_all_counted(mongo_db: Any) -> None:
    failures = MongoFailedAttempts(mongo_db, kind="address", limit=10, window=timedelta(minutes=15))
    answers = await asyncio.gather(*(failures.record("203.0.113.7", NOW) for _ in range(30)))
    assert answers.count(None) == 10
    assert await failures.wait("203.0.113.7", NOW) is not None
    assert await failures.wait("203.0.113.8", NOW) is None
    later = NOW + timedelta(minutes=30)  # the windows have moved on
    assert await failures.wait("203.0.113.7", later) is None
