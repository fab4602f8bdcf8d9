"""The outbox proven by killing the process between the write and the publish: the event is
neither lost (a relay started afterwards publishes it) nor duplicated (exactly one record)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from portal_clients.adapters.relay import MarkerRelay, kafka_publisher
from portal_contracts.broker import build_broker
from portal_contracts.clients import ClientCreated

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_a_write_killed_before_its_publish_is_published_exactly_once(
    service, mongodb_uri, kafka_bootstrap, topics, read_topic
) -> None:
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("crash_writer.py")),
        mongodb_uri,
        service.db.name,
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None
    line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
    client_id = line.decode().strip()
    os.kill(writer.pid, signal.SIGKILL)
    await asyncio.wait_for(writer.wait(), timeout=10)
    assert writer.returncode == -signal.SIGKILL

    head = await service.db["clients"].find_one({"_id": client_id})
    assert [e["event_type"] for e in head["outbox"]] == ["ClientCreated"]  # written, unpublished
    assert await read_topic(topics.of(ClientCreated), 1, timeout=3) == []

    broker = build_broker(kafka_bootstrap, client_id="relay-after-crash")
    await broker.start()
    try:
        relay = MarkerRelay(service.db, kafka_publisher(broker, topics))
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0  # nothing left: published once
    finally:
        await broker.stop()
    records = await read_topic(topics.of(ClientCreated), 2, timeout=10)
    assert [r["key"] for r in records] == [client_id]
    event = ClientCreated.model_validate(records[0]["value"])
    assert event.payload.client.client_id == client_id
    assert event.event_id.hex == head["outbox"][0]["event_id"].replace("-", "")
