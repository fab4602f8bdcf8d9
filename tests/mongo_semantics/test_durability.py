"""Acknowledged writes survive a killed server, with the flags `make up` runs it with.

This one starts its own local server (it must kill it), whatever ``MONGODB_URI`` says: it proves
the settings of the server the project ships, not those of a given one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from portal_infra import mongodb
from portal_infra.process import stop_process

pytestmark = pytest.mark.integration

WRITES = 300


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    node = mongodb.new_node(tmp_path, durable=True)  # what `make up` uses (--sync-on-commit)
    assert "--sync-on-commit" in node.command()
    process = mongodb.start_and_wait(node)
    try:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(node.uri)
        db = client["durability"]
        for i in range(WRITES):  # one by one: each acknowledged before the next
            await db["ledger"].insert_one({"_id": i})
        async with client.start_session() as session:
            async with await session.start_transaction():
                await db["ledger"].insert_one({"_id": "tx"}, session=session)
        await db["ledger"].update_one({"_id": 0}, {"$set": {"sent": True}})
        await client.close()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

        process = mongodb.start_and_wait(node)
        client = AsyncMongoClient(node.uri)
        ledger = client["durability"]["ledger"]
        assert await ledger.count_documents({}) == WRITES + 1
        assert (await ledger.find_one({"_id": 0}))["sent"] is True
        assert await ledger.find_one({"_id": "tx"}) is not None
        await client.close()
    finally:
        stop_process(process)
