"""The ClientState topic on the real Kafka and MongoDB-wire server: each change writes its
client's state with its event; ``republish_states`` announces every client's current state
again (clients from before the topic, a topic lost), page by page, any number of times, and a
change racing it is never overtaken by an older state."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portal_clients.entrypoints import republish_states
from portal_clients.service.states import republish_states as republish_handler
from portal_clients.testing.samples import client_form
from portal_contracts.clients import ClientState
from portal_servicekit.replay import read_to_end

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _states(records: list[dict[str, Any]]) -> list[ClientState]:
    states = [ClientState.model_validate(r["value"]) for r in records]
    assert [r["key"] for r in records] == [s.payload.client.client_id for s in states]
    return states


async def _cleanup_policy(service: Any, topic: str) -> str:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=service.settings.platform.kafka_bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    return next(str(entry[1]) for entry in entries if entry[0] == "cleanup.policy")


async def _add(api, auth, n: int, office: str = "office-a") -> dict[str, Any]:
    answer = await api.post("/v1/clients", json=client_form(n), headers=auth(office=office))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_each_change_writes_its_state_and_the_command_announces_them_all_again(
    service, api, auth, topics, read_topic, monkeypatch
) -> None:
    ids = [(await _add(api, auth, n))["client_id"] for n in (700, 701, 702)]
    other = (await _add(api, auth, 703, office="office-b"))["client_id"]
    edited = await api.put(
        f"/v1/clients/{ids[0]}",
        json=client_form(700, company={"name": "Renamed"}),
        headers={**auth(), "If-Match": '"1"'},
    )
    assert edited.status_code == 200
    outbox = service.runtime.db["outbox"]
    written = [
        e["type"] for r in await outbox.find({}).sort("at", 1).to_list() for e in r["events"]
    ]
    assert written.count("ClientState") == 5  # 4 created + 1 edit, each with its event
    await outbox.delete_many({})  # as if these clients came before the topic: nothing announced

    count = await republish_states.republish(service, publish_timeout_s=30)
    assert count == 4
    assert await _cleanup_policy(service, topics.of(ClientState)) == "compact"  # made so first
    states = _states(await read_topic(topics.of(ClientState), 4, timeout=20))
    assert sorted(s.payload.client.client_id for s in states) == sorted([*ids, other])
    current = {s.payload.client.client_id: s for s in states}
    assert current[ids[0]].payload.client.version == 2
    assert current[ids[0]].payload.client.company.name == "Renamed"
    assert current[other].office_id == "office-b"
    read_back = (await api.get(f"/v1/clients/{ids[1]}", headers=auth())).json()
    for own_view in ("invitation", "vat_check_reason", "vat_check_detail"):  # not in the snapshot
        read_back.pop(own_view)
    assert current[ids[1]].payload.client.model_dump(mode="json") == read_back

    # The command itself, for one office, configured from the environment as in a pod.
    platform = service.settings.platform
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", platform.kafka_bootstrap_servers)
    monkeypatch.setenv("MONGODB_URI", platform.mongodb_uri)
    monkeypatch.setenv("PORTAL_JWT_KEY", platform.jwt_key.get_secret_value())
    monkeypatch.setenv("PORTAL_TOPIC_PREFIX", topics.prefix)
    monkeypatch.setenv("CLIENTS_DATABASE", service.settings.database)
    monkeypatch.setenv("CLIENTS_VIES_ENABLED", "false")
    assert await republish_states.main(["--office", "office-b"]) == 0
    again = _states(await read_topic(topics.of(ClientState), 5, timeout=20))
    assert len(again) == 5  # the four, then office-b's one again: the same version
    [first, second] = [s.payload.client for s in again if s.office_id == "office-b"]
    assert first == second == current[other].payload.client
    assert await outbox.count_documents({}) == 0


async def test_a_change_racing_the_command_is_never_overtaken_by_an_older_state(
    service, api, auth, topics
) -> None:
    """Edits of one client while its state is announced again and again: on the partition the
    last state of the client is its last version (what compaction keeps)."""
    client_id = (await _add(api, auth, 710))["client_id"]
    for n in range(711, 716):
        await _add(api, auth, n)  # more clients in the page
    edits = 8

    async def edit() -> None:
        for version in range(1, edits + 1):
            answer = await api.put(
                f"/v1/clients/{client_id}",
                json=client_form(710, company={"name": f"Name {version}"}),
                headers={**auth(), "If-Match": f'"{version}"'},
            )
            assert answer.status_code == 200, answer.text

    async def republish_repeatedly() -> None:
        for _ in range(edits):
            await republish_handler(service.deps, page=2)

    await asyncio.gather(edit(), republish_repeatedly())
    await service.runtime.broker.start()
    try:
        await service.runtime.relay.drain(30)
    finally:
        await service.runtime.relay.stop()
        await service.runtime.broker.stop()
    records: list[Any] = []

    async def keep(batch: Any) -> None:
        records.extend(batch)

    bootstrap = service.settings.platform.kafka_bootstrap_servers
    await read_to_end(bootstrap, topics.of(ClientState), keep, client_id="test-reader")
    states = [
        ClientState.model_validate_json(r.value) for r in records if r.key == client_id.encode()
    ]
    mine = [s.payload.client for s in states]
    assert len(mine) > edits + 1  # its own states, and republished ones between them
    assert (mine[-1].version, mine[-1].company.name) == (edits + 1, f"Name {edits}")
