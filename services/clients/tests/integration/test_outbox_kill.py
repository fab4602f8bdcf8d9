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


async def test_an_unconfirmed_write_is_published_only_if_it_landed(service) -> None:
    """A writer that died after its write but before confirming it, and one that died before
    its write: once past the grace period the relay reads the client and decides."""
    from datetime import timedelta

    from portal_clients.domain.model import Client
    from portal_clients.service.clients import ClientInput, create_client
    from portal_clients.testing.samples import client_form
    from portal_contracts.identity import Caller, Role

    caller = Caller(office_id="office-a", user_id="u", role=Role.ADMIN)
    deps = service.deps
    landed = await create_client(ClientInput(client_form(950), skip_vat_check=True), caller, deps)
    await service.db["outbox_landed"].delete_many({})  # died before confirming
    ghost = Client.register(
        client_id="ghost",
        office_id="office-a",
        data=landed.data,
        vat_check=landed.vat_check,
        now=landed.created_at,
    )
    await deps.clients._insert_marker("c:ghost:1:x", ghost, [])  # died before writing
    published: list[dict] = []

    async def record(entry: dict) -> None:
        published.append(entry)

    patient = MarkerRelay(service.db, record)  # within the grace period: waits
    assert await patient.relay_once() == 0
    assert await service.db["outbox_markers"].count_documents({}) == 2
    relay = MarkerRelay(service.db, record, grace=timedelta(0))
    assert await relay.relay_once() == 1
    assert [e["key"] for e in published] == [landed.client_id]
    assert await service.db["outbox_markers"].count_documents({}) == 0
