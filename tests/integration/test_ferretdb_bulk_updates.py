"""An update command with many statements completes (portal_infra/ferretdb_patches.py, fix 3).

Upstream FerretDB 1.24 keeps every statement's cursor, and with it a pooled SQLite connection,
open until the whole command ends: a bulk of ~100 updates, or a few concurrent bulks of 50,
exhausted the pool and hung the server for every client of that database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import UpdateOne

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_bulks_of_many_updates_complete_and_apply_each_statement(mongo_db: Any) -> None:
    coll = mongo_db["clients"]
    await coll.insert_many([{"_id": f"c{i}", "n": 0} for i in range(450)])

    async def bulk(start: int) -> int:
        ops = [UpdateOne({"_id": f"c{i}"}, {"$inc": {"n": 1}}) for i in range(start, start + 150)]
        result = await coll.bulk_write(ops, ordered=False)
        return result.modified_count

    # Three bulks of 150 at once, on different clients (FerretDB's $inc is not atomic).
    modified = await asyncio.wait_for(asyncio.gather(bulk(0), bulk(150), bulk(300)), timeout=60)
    assert modified == [150, 150, 150]
    assert await coll.count_documents({"n": 1}) == 450
