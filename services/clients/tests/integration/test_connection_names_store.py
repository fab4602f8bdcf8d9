"""The office's connection names on the real MongoDB-wire server: of racing lists the newest
stays, whatever the order, and a version is stored once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from portal_clients.adapters.mongo_office import MongoConnectionNames
from portal_contracts.values import TransferMethod

pytestmark = pytest.mark.integration


async def test_racing_lists_leave_the_newest(mongo_db: Any) -> None:
    names = MongoConnectionNames(mongo_db)
    assert await names.of("o1") is None  # never announced: not checked
    versions = list(range(1, 21)) * 2  # every version twice: live and redelivered
    random.shuffle(versions)
    stored = await asyncio.gather(
        *(names.keep_newest("o1", v, {f"server-{v}": TransferMethod.SFTP}) for v in versions)
    )
    assert await names.of("o1") == {"server-20": TransferMethod.SFTP}
    assert sum(stored) <= 20
    assert not await names.keep_newest("o1", 7, {"old": TransferMethod.SFTP})
    assert await names.keep_newest("o1", 21, {})
    assert await names.of("o1") == {}  # every connection deleted: an empty list, still checked
