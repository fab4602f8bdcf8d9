"""The read model on the real MongoDB-wire server: of racing snapshots the newest stays."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from portal_contracts.clients import SftpTarget
from portal_delivery.adapters.read_models import MongoClientRoutes
from portal_delivery.domain.model import ClientRoute
from services.delivery.tests.samples import snapshot

pytestmark = pytest.mark.integration


async def test_racing_snapshots_leave_the_newest(mongo_db: Any) -> None:
    routes = MongoClientRoutes(mongo_db)
    await routes.ensure_indexes()
    versions = list(range(1, 31)) * 2  # every version twice: live and replayed
    random.shuffle(versions)
    stored = await asyncio.gather(
        *(
            routes.keep_newest(ClientRoute.from_snapshot("o1", snapshot(v, f"folder-{v}")))
            for v in versions
        )
    )
    route = await routes.get("o1", "c1")
    assert route is not None
    assert route.version == 30
    assert route.integration.target == SftpTarget(connection="office", folder="folder-30")
    assert sum(stored) <= 30  # a version is never stored twice
    assert not await routes.keep_newest(ClientRoute.from_snapshot("o1", snapshot(29, "old")))
