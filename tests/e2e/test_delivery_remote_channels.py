"""The remote delivery channels end to end, as `make up` runs them: the planner, the scheduler, the
OneDrive and Clearfacts workers and the delivery API as processes on the real Kafka and
MongoDB-wire server, the local Graph and Clearfacts fakes as processes, and the reference agent
as a process fetching into its folder. Documents arrive as DocumentReady; the test counts at the
receiving side.

- OneDrive: the file in the client's folder of the drive, Graph's item id and quickXorHash as the
  receipt; Clearfacts: one upload into the client's administration, its uuid as the receipt;
- the agent: SIGKILLed while it fetches, restarted: every item lands once, no ``.part`` left;
- a replayed DocumentReady changes nothing; the ledger shows the proof; another office's agent
  key sees nothing; the Graph client secret, the Clearfacts token and the agent's token appear
  in no response (but the one that issued the agent's key), no log line and no event.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import (
    AgentTarget,
    ApiTarget,
    ClientCreated,
    ClientCreatedPayload,
    DeliveryTarget,
    OneDriveTarget,
)
from portal_contracts.documents import DocumentReady, DocumentReadyPayload
from portal_contracts.values import DocumentKind
from portal_delivery.adapters.channels.quickxor import quickxor
from portal_delivery.adapters.secrets import new_key_text
from portal_infra.process import free_port, spawn
from tests.e2e.conftest import Stack, bearer, poll, read_events
from tests.e2e.test_delivery_channels import UBL, snapshot, store_file

pytestmark = pytest.mark.e2e

TENANT = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
CLIENT_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
DRIVE = "b!e2e-drive"
GRAPH_SECRET = "e2e-graph-client-secret-never-to-leak-6603"
CLEARFACTS_TOKEN = "e2eclearfactstoken" + "t" * 62  # 80 characters
VAT = "0403170701"  # the samples' client (BE0403170701)
AGENT_DOCUMENTS = 6


class Api:
    """The delivery API over HTTP, every answer kept (scanned for secrets at the end)."""

    def __init__(self, http: httpx.AsyncClient, base: str) -> None:
        self.http, self.base = http, base
        self.answers: list[str] = []

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        answer = await self.http.request(method, self.base + path, **options)
        self.answers.append(answer.text)
        return answer


def start_fakes(stack: Stack, tmp_path: Path) -> tuple[str, str]:
    graph_port, clearfacts_port = free_port(), free_port()
    stack.env.update(
        {"GRAPH_FAKE_CLIENT_SECRET": GRAPH_SECRET, "CLEARFACTS_FAKE_TOKEN": CLEARFACTS_TOKEN}
    )
    module = "portal_delivery.entrypoints"
    stack._spawn(
        "graph-fake",
        [sys.executable, "-m", f"{module}.graph_fake", "--port", str(graph_port),
         "--tenant", TENANT, "--client-id", CLIENT_ID, "--drive", DRIVE,
         "--root", str(tmp_path / "onedrive")],
    )  # fmt: skip
    stack._spawn(
        "clearfacts-fake",
        [sys.executable, "-m", f"{module}.clearfacts_fake", "--port", str(clearfacts_port),
         "--vat", VAT, "--root", str(tmp_path / "clearfacts")],
    )  # fmt: skip
    return f"http://127.0.0.1:{graph_port}", f"http://127.0.0.1:{clearfacts_port}"


def start_delivery(stack: Stack, graph: str, clearfacts: str, test_id: str) -> None:
    stack.env.update(
        {
            "DELIVERY_SECRETS_KEY": new_key_text(),
            "DELIVERY_BLOB_DATABASE": f"e2e_{test_id}_blobs",
            "DELIVERY_GRAPH_URL": f"{graph}/v1.0",
            "DELIVERY_GRAPH_LOGIN_URL": graph,
            "DELIVERY_CLEARFACTS_URL": f"{clearfacts}/graphql",
            "DELIVERY_LEASE_S": "5",
            "DELIVERY_AGENT_LEASE_S": "5",
            "DELIVERY_SCHEDULER_INTERVAL_S": "0.3",
            "PORTAL_LOG_LEVEL": "DEBUG",  # every line a process writes is scanned for secrets
        }
    )
    for role in ("planner", "scheduler", "onedrive", "clearfacts"):
        stack._spawn(
            f"delivery-{role}",
            [sys.executable, "-m", "portal_delivery.entrypoints.worker", "--role", role],
        )
    stack.start_api("delivery")


def start_agent(stack: Stack, token: str, folder: Path, run: int) -> None:
    command = [
        sys.executable, "-m", "portal_delivery.agent", "--url", stack.url("delivery"),
        "--dir", str(folder), "--wait", "2", "--concurrency", "2",
    ]  # fmt: skip
    env = {**stack.env, "PORTAL_AGENT_TOKEN": token}
    log = stack.logs / f"delivery-agent-{run}.log"  # each run's log kept (scanned for secrets)
    stack.processes["delivery-agent"] = spawn(command, log, env=env)


async def connections(api: Api) -> str:
    admin = bearer("o1")
    for body in (
        {
            "name": "Microsoft 365",
            "kind": "onedrive",
            "settings": {"tenant_id": TENANT, "client_id": CLIENT_ID, "drive_id": DRIVE,
                         "base_folder": "Boekhouding"},
            "secrets": {"client_secret": GRAPH_SECRET},
        },
        {"name": "Clearfacts", "kind": "clearfacts", "secrets": {"token": CLEARFACTS_TOKEN}},
    ):  # fmt: skip
        created = await api.call("POST", "/v1/connections", headers=admin, json=body)
        assert created.status_code == 201, created.text
        assert "admin_consent_url" in created.json()
    agent = await api.call(
        "POST",
        "/v1/connections",
        headers=admin,
        json={"name": "Serveur", "kind": "agent", "settings": {"base_folder": "inbox"}},
    )
    assert agent.status_code == 201, agent.text
    api.answers.pop()  # the one answer that carries the agent's token: its issue
    token: str = agent.json()["agent_key"]["token"]
    return token


def ready(
    client_id: str, ubl: Any, kind: DocumentKind = DocumentKind.SALES_INVOICE
) -> DocumentReady:
    return DocumentReady.new(
        office_id="o1",
        payload=DocumentReadyPayload(
            document_id=uuid.uuid4().hex,
            client_id=client_id,
            kind=kind,
            profile="peppol-bis3",
            ubl=ubl,
        ),
    )


async def test_onedrive_clearfacts_and_the_agent_each_deliver_once(
    stack: Stack,
    kafka_bootstrap: str,
    mongodb_uri: str,
    test_id: str,
    http: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    graph, clearfacts = start_fakes(stack, tmp_path)
    start_delivery(stack, graph, clearfacts, test_id)
    await stack.wait_healthy("delivery")
    api = Api(http, stack.url("delivery"))
    agent_token = await connections(api)
    agent_folder = tmp_path / "agent"

    broker = build_broker(kafka_bootstrap, client_id="e2e")
    await broker.start()
    try:
        targets: dict[str, DeliveryTarget] = {
            "c-onedrive": OneDriveTarget(folder="acme"),
            "c-clearfacts": ApiTarget(),
            "c-agent": AgentTarget(connection="Serveur", folder="acme"),
        }
        for client_id, target in targets.items():
            event = ClientCreated.new(
                office_id="o1", payload=ClientCreatedPayload(client=snapshot(client_id, target))
            )
            await publish_event(broker, stack.topics, event)
        blobs = f"e2e_{test_id}_blobs"
        events = []
        for client_id, count in (
            ("c-onedrive", 1),
            ("c-clearfacts", 1),
            ("c-agent", AGENT_DOCUMENTS),
        ):
            for i in range(count):
                ubl = await store_file(
                    mongodb_uri, blobs, UBL, f"INV-{client_id}-{i}.xml", "application/xml"
                )
                events.append(ready(client_id, ubl))
        for event in events:
            await publish_event(broker, stack.topics, event)

        # The agent fetches; SIGKILLed at its first file, then restarted.
        start_agent(stack, agent_token, agent_folder, 1)
        await poll(
            lambda: _files(agent_folder, 1),
            timeout_s=60,
            what="the agent's first file",
            stack=stack,
        )
        stack.kill("delivery-agent")
        start_agent(stack, agent_token, agent_folder, 2)

        await poll(
            lambda: _all_sent(api, len(events)),
            timeout_s=120,
            what="every delivery sent",
            stack=stack,
        )
        for event in events:  # replayed: nothing new
            await publish_event(broker, stack.topics, event)
        await asyncio.sleep(8)  # past a lease: a lost or duplicated request would show by now
    finally:
        await broker.stop()

    async with httpx.AsyncClient() as plain:
        drive = (await plain.get(f"{graph}/_fake/files")).json()
        uploads = (await plain.get(f"{clearfacts}/_fake/uploads")).json()
    assert [f["path"].rsplit("/", 1)[0] for f in drive] == ["Boekhouding/acme/sales"]
    assert drive[0]["file"]["hashes"]["quickXorHash"] == quickxor(UBL)
    assert [(u["vat"], u["type"], u["sha256"]) for u in uploads] == [
        (VAT, "SALE", hashlib.sha256(UBL).hexdigest())
    ]
    landed = sorted(p for p in agent_folder.rglob("*") if p.is_file())
    assert len(landed) == AGENT_DOCUMENTS  # each once
    assert {p.relative_to(agent_folder).parts[:3] for p in landed} == {("inbox", "acme", "sales")}
    assert all(p.read_bytes() == UBL for p in landed)
    assert not [p for p in landed if p.name.endswith(".part")]

    page = await api.call("GET", "/v1/deliveries?limit=50", headers=bearer("o1"))
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for item in page.json()["items"]:
        by_channel.setdefault(item["channel"], []).append(item)
    assert {c: len(items) for c, items in by_channel.items()} == {
        "onedrive": 1, "api": 1, "agent": AGENT_DOCUMENTS
    }  # fmt: skip
    onedrive_proof = by_channel["onedrive"][0]["attempts"][-1]["receipt"]["files"][0]
    assert (onedrive_proof["item_id"], onedrive_proof["quickXorHash"]) == (
        drive[0]["id"], drive[0]["file"]["hashes"]["quickXorHash"]
    )  # fmt: skip
    assert by_channel["api"][0]["attempts"][-1]["receipt"]["uuid"] == uploads[0]["uuid"]
    for item in by_channel["agent"]:
        assert item["state"] == "sent"
        assert item["attempts"][-1]["receipt"]["files"][0]["path"].startswith("inbox/acme/sales/")

    # Another office's agent key sees nothing.
    other = await api.call(
        "POST", "/v1/connections", headers=bearer("o2"),
        json={"name": "Serveur", "kind": "agent"},
    )  # fmt: skip
    api.answers.pop()
    their_token = other.json()["agent_key"]["token"]
    feed = await api.call(
        "GET", "/agent/v1/feed", headers={"Authorization": f"Bearer {their_token}"}
    )
    assert feed.json()["items"] == []

    # The secrets: in no response, no log line, no event.
    await api.call("GET", "/v1/connections", headers=bearer("o1"))
    await api.call("GET", "/v1/connections/Serveur/agent-keys", headers=bearer("o1"))
    secrets = (GRAPH_SECRET, CLEARFACTS_TOKEN, agent_token, their_token)
    for text in api.answers:
        for secret in secrets:
            assert secret not in text
    for log in stack.logs.glob("*.log"):
        content = log.read_text(errors="replace")
        for secret in secrets:
            assert secret not in content, log.name
    for topic in stack.topics.all():
        for event in await read_events(
            kafka_bootstrap, topic, at_least=0, timeout_s=2, settle_s=0.5
        ):
            for secret in secrets:
                assert secret not in json.dumps(event)


async def _files(folder: Path, at_least: int) -> bool:
    found = [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".part")]  # noqa: ASYNC240
    return len(found) >= at_least


async def _all_sent(api: Api, count: int) -> bool:
    answer = await api.http.get(api.base + "/v1/deliveries?limit=50", headers=bearer("o1"))
    items = answer.json()["items"]
    return len(items) == count and all(i["state"] == "sent" for i in items)
