"""The outbox proven by killing the process between the write and the publish: the event is
neither lost (a relay started afterwards publishes it) nor duplicated (exactly one record)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from portal_contracts.clients import ClientCreated

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_a_write_killed_before_its_publish_is_published_exactly_once(
    service, mongodb_uri, topics, read_topic
) -> None:
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("crash_writer.py")),
        mongodb_uri,
        service.runtime.db.name,
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None
    line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
    client_id = line.decode().strip()
    os.kill(writer.pid, signal.SIGKILL)
    await asyncio.wait_for(writer.wait(), timeout=10)
    assert writer.returncode == -signal.SIGKILL

    db = service.runtime.db
    assert await db["clients"].count_documents({"_id": client_id}) == 1
    [record] = await db["outbox"].find({}).to_list()  # committed with the client, unpublished
    assert [(e["type"], e["key"]) for e in record["events"]] == [
        ("ClientCreated", client_id),
        ("ClientState", client_id),
    ]
    assert await read_topic(topics.of(ClientCreated), 1, timeout=3) == []

    relay = service.runtime.relay  # the one relay, as a restarted worker runs it
    await service.runtime.broker.start()
    try:
        await relay.drain()
        assert await relay.relay_once() == 0  # nothing left: published once
    finally:
        await service.runtime.broker.stop()
    records = await read_topic(topics.of(ClientCreated), 2, timeout=10)
    assert [r["key"] for r in records] == [client_id]
    event = ClientCreated.model_validate(records[0]["value"])
    assert event.payload.client.client_id == client_id
    assert str(event.event_id) == record["events"][0]["id"]
