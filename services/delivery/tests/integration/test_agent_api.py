"""The agent API on the real database, driven by the reference agent (portal_delivery.agent):
files land in its folder atomically and once, an agent killed before its ack gets the item back
and does not fetch it twice, downloads resume with Range, a key sees its own connection only,
and a revoked key is refused at once."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal_contracts.clients import AgentTarget, SendTiming, Timing
from portal_delivery.agent import Agent, Revoked
from portal_delivery.bootstrap import Service
from portal_delivery.domain.delivery import State
from portal_delivery.entrypoints.http import create_app
from portal_delivery.ports import DeliveryQuery
from portal_delivery.service.planning import remember_client_route
from portal_delivery.service.sending import dispatch_due
from services.delivery.tests.integration.test_channels import PDF, UBL, submitted
from services.delivery.tests.integration.test_connections_api import auth
from services.delivery.tests.samples import snapshot

pytestmark = pytest.mark.integration

IMMEDIATELY = Timing(when=SendTiming.IMMEDIATELY)


class Counting(httpx.ASGITransport):
    """The app in this loop, counting the file downloads the agent makes."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.downloads: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/files/" in request.url.path:
            self.downloads.append(request)
        return await super().handle_async_request(request)


@pytest.fixture
async def transport(service: Service) -> Counting:
    return Counting(create_app(service))


@pytest.fixture
async def api(transport: Counting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def agent_connection(
    api: httpx.AsyncClient, office: str = "o1", name: str = "Serveur"
) -> str:
    created = await api.post(
        "/v1/connections",
        headers=auth(office),
        json={"name": name, "kind": "agent", "settings": {"base_folder": "inbox"}},
    )
    assert created.status_code == 201, created.text
    issued = created.json()["agent_key"]
    assert issued["token"].startswith("pda_")
    token: str = issued["token"]
    return token


def agent(transport: Counting, token: str, root: Path, **options: Any) -> Agent:
    client = httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {token}"}
    )
    return Agent("http://t", token, root, client=client, wait_s=0, **options)


async def agent_client(service: Service) -> None:
    target = AgentTarget(connection="serveur", folder="acme")  # the name's case may differ
    await remember_client_route("o1", snapshot(1, target=target, timing=IMMEDIATELY), service.deps)


async def run_once(runner: Agent) -> None:
    await runner.run(asyncio.Event(), once=True)


def landed(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def the_delivery(service: Service) -> Any:
    [delivery] = await service.deps.ledger.page(DeliveryQuery("o1"))
    return delivery


async def test_the_agent_writes_the_files_in_its_folder_and_acknowledges(
    service: Service, api: httpx.AsyncClient, transport: Counting, tmp_path: Path
) -> None:
    token = await agent_connection(api)
    await agent_client(service)
    await submitted(service)
    assert (await the_delivery(service)).state is State.AVAILABLE
    runner = agent(transport, token, tmp_path)
    await run_once(runner)
    files = landed(tmp_path)
    assert [p.relative_to(tmp_path).parts[:3] for p in files] == [("inbox", "acme", "sales")] * 2
    assert {p.read_bytes() for p in files} == {UBL, PDF}
    delivery = await the_delivery(service)
    assert delivery.state is State.SENT
    receipt = delivery.attempts[-1].receipt
    assert sorted(f["path"] for f in receipt["files"]) == [
        str(p.relative_to(tmp_path)) for p in files
    ]
    events = [
        entry["type"]
        async for record in service.runtime.outbox.collection.find({})
        for entry in record["events"]
    ]
    assert events.count("DocumentDelivered") == 1
    await runner.aclose()


async def test_an_agent_killed_before_its_ack_gets_the_item_back_and_it_lands_once(
    service: Service, api: httpx.AsyncClient, transport: Counting, tmp_path: Path
) -> None:
    token = await agent_connection(api)
    await agent_client(service)
    await submitted(service)
    service.deps.agent_lease = timedelta(seconds=1)

    class KilledBeforeTheAck(Agent):
        async def _acknowledge(self, batch: list[dict[str, Any]]) -> None:
            return None  # SIGKILL between the rename and the ack: it never goes out

    dying = agent(transport, token, tmp_path)
    dying.__class__ = KilledBeforeTheAck
    await run_once(dying)
    assert len(landed(tmp_path)) == 2
    assert len(transport.downloads) == 2
    assert (await the_delivery(service)).state is State.SENDING
    await asyncio.sleep(1.2)  # the lease runs out
    assert await dispatch_due(service.deps) == 1
    assert (await the_delivery(service)).state is State.AVAILABLE
    again = agent(transport, token, tmp_path)
    await run_once(again)
    assert len(landed(tmp_path)) == 2  # once
    assert len(transport.downloads) == 2  # found in place: not fetched a second time
    delivery = await the_delivery(service)
    assert delivery.state is State.SENT
    assert delivery.attempt == 1  # the same attempt, resumed
    await again.aclose()


async def test_a_download_cut_short_resumes_with_range(
    service: Service, api: httpx.AsyncClient, transport: Counting, tmp_path: Path
) -> None:
    token = await agent_connection(api)
    await agent_client(service)
    await submitted(service)
    service.deps.agent_lease = timedelta(seconds=1)
    feed = await api.get("/agent/v1/feed", headers={"Authorization": f"Bearer {token}"})
    [item] = feed.json()["items"]
    pdf = next(f for f in item["files"] if f["name"].endswith(".pdf"))
    folder = tmp_path / item["folder"]
    folder.mkdir(parents=True)
    (folder / f".{pdf['name']}.{item['item_id']}.part").write_bytes(PDF[:7])  # killed mid-file
    await asyncio.sleep(1.1)  # its lease runs out
    assert await dispatch_due(service.deps) == 1
    runner = agent(transport, token, tmp_path)
    await run_once(runner)
    [ranged] = [r for r in transport.downloads if "range" in r.headers]
    assert ranged.headers["range"] == "bytes=7-"
    assert (folder / pdf["name"]).read_bytes() == PDF
    assert not [p for p in landed(tmp_path) if p.name.endswith(".part")]
    await runner.aclose()


async def test_downloads_carry_the_digest_and_honour_ranges(
    service: Service, api: httpx.AsyncClient
) -> None:
    token = await agent_connection(api)
    await agent_client(service)
    await submitted(service)
    bearer = {"Authorization": f"Bearer {token}"}
    [item] = (await api.get("/agent/v1/feed", headers=bearer)).json()["items"]
    [ubl] = [f for f in item["files"] if f["name"].endswith(".xml")]
    whole = await api.get(ubl["url"], headers=bearer)
    assert whole.content == UBL
    assert whole.headers["etag"] == f'"{hashlib.sha256(UBL).hexdigest()}"' == f'"{ubl["sha256"]}"'
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["repr-digest"].startswith("sha-256=:")
    part = await api.get(ubl["url"], headers={**bearer, "Range": "bytes=5-9"})
    assert (part.status_code, part.content) == (206, UBL[5:10])
    assert part.headers["content-range"] == f"bytes 5-9/{len(UBL)}"
    tail = await api.get(ubl["url"], headers={**bearer, "Range": "bytes=-4"})
    assert tail.content == UBL[-4:]
    stale = await api.get(
        ubl["url"], headers={**bearer, "Range": "bytes=5-", "If-Range": '"other"'}
    )
    assert (stale.status_code, stale.content) == (200, UBL)
    beyond = await api.get(ubl["url"], headers={**bearer, "Range": f"bytes={len(UBL)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(UBL)}"


async def test_a_key_of_another_office_sees_nothing_and_a_revoked_key_is_refused_at_once(
    service: Service, api: httpx.AsyncClient, transport: Counting, tmp_path: Path
) -> None:
    token = await agent_connection(api)
    other = await agent_connection(api, office="o2")  # the same connection name, another office
    await agent_client(service)
    await submitted(service)
    theirs = {"Authorization": f"Bearer {other}"}
    assert (await api.get("/agent/v1/feed", headers=theirs)).json()["items"] == []
    delivery = await the_delivery(service)
    name = delivery.files[0].name
    stolen = await api.get(f"/agent/v1/items/{delivery.delivery_id}/files/{name}", headers=theirs)
    assert stolen.status_code == 404
    ack = await api.post(
        f"/agent/v1/items/{delivery.delivery_id}/ack",
        headers=theirs,
        json={"lease_token": "x" * 20, "files": []},
    )
    assert ack.status_code == 404
    assert (await api.get("/agent/v1/feed")).status_code == 401  # no key
    assert (await api.get("/agent/v1/feed", headers=auth())).status_code == 401  # a user's JWT

    [key] = (await api.get("/v1/connections/Serveur/agent-keys", headers=auth())).json()
    assert token not in str(key)
    assert set(key) == {"key_id", "created_at", "last_seen_at"}
    revoked = await api.delete(
        f"/v1/connections/Serveur/agent-keys/{key['key_id']}", headers=auth()
    )
    assert revoked.status_code == 204
    refused = await api.get("/agent/v1/feed", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(Revoked):
        await run_once(agent(transport, token, tmp_path))
    assert landed(tmp_path) == []

    fresh = (await api.post("/v1/connections/Serveur/agent-keys", headers=auth())).json()["token"]
    assert (
        await api.get("/agent/v1/feed", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200
    listed = (await api.get("/v1/connections", headers=auth())).json()
    assert fresh not in str(listed)
    connection = next(c for c in listed if c["name"] == "Serveur")
    deleted = await api.delete(
        "/v1/connections/Serveur", headers={**auth(), "If-Match": f'"{connection["version"]}"'}
    )
    assert deleted.status_code == 204
    gone = await api.get("/agent/v1/feed", headers={"Authorization": f"Bearer {fresh}"})
    assert gone.status_code == 401  # deleting the connection revoked its keys in its transaction


async def test_a_page_of_acks_is_one_request_and_each_item_gets_its_outcome(
    service: Service, api: httpx.AsyncClient
) -> None:
    token = await agent_connection(api)
    await agent_client(service)
    for _ in range(3):
        await submitted(service)
    bearer = {"Authorization": f"Bearer {token}"}
    items = (await api.get("/agent/v1/feed", headers=bearer)).json()["items"]
    assert len(items) == 3
    acks = [
        {
            "item_id": item["item_id"],
            "lease_token": item["lease_token"] if n else "not-the-lease-token",
            "files": [{"name": f["name"], "sha256": f["sha256"]} for f in item["files"]],
        }
        for n, item in enumerate(items)
    ]
    answer = await api.post("/agent/v1/acks", headers=bearer, json={"items": acks})
    outcomes = answer.json()["items"]
    assert outcomes[items[0]["item_id"]] == "lease_lost"
    assert [outcomes[i["item_id"]] for i in items[1:]] == ["sent", "sent"]
    again = await api.post("/agent/v1/acks", headers=bearer, json={"items": acks[1:]})
    assert set(again.json()["items"].values()) == {"sent"}  # repeated: nothing changes
    states = sorted(d.state.value for d in await service.deps.ledger.page(DeliveryQuery("o1")))
    assert states == ["sending", "sent", "sent"]
