"""Read models rebuilt from the compacted ClientState topic, on the real Kafka and
MongoDB-wire server: clients added and edited through the clients service (its API and its
worker's relay), delivery's planner filling ``client_routes`` from ClientCreated/ClientUpdated;
then the collection is wiped and ``python -m portal_delivery.entrypoints.rebuild`` (the command
itself, a process of its own, beside the running planner) brings back the same copies, never
replacing a newer one that is there already, and a second run changes nothing. And ubl and invitations, deployed after the clients were made,
build their copies with their own rebuild commands.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from portal_clients.adapters.vies import SkippedRegister
from portal_clients.bootstrap import Service as Clients
from portal_clients.bootstrap import bootstrap as clients_bootstrap
from portal_clients.config import Settings as ClientsSettings
from portal_clients.entrypoints.http import create_app
from portal_clients.testing.samples import client_form
from portal_contracts.clients import Integration
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.bootstrap import Service as Delivery
from portal_delivery.bootstrap import bootstrap as delivery_bootstrap
from portal_delivery.config import Settings as DeliverySettings
from portal_delivery.domain.model import ClientRoute
from portal_delivery.entrypoints.worker import create_worker as delivery_worker
from portal_invitations.bootstrap import bootstrap as invitations_bootstrap
from portal_invitations.config import Settings as InvitationsSettings
from portal_invitations.entrypoints.rebuild import rebuild_clients as rebuild_invitations
from portal_servicekit.settings import PlatformSettings
from portal_ubl.bootstrap import bootstrap as ubl_bootstrap
from portal_ubl.config import Settings as UblSettings
from portal_ubl.entrypoints.rebuild import rebuild_clients as rebuild_ubl

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

JWT_KEY = "read-model-rebuild-tests-key-0123456789"
SECRETS_KEY = new_key_text()


def _platform(kafka: str, mongodb: str, topics: Topics) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "MONGODB_URI": mongodb,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": topics.prefix,
    }


@pytest.fixture
async def clients_service(
    kafka_bootstrap: str, mongodb_uri: str, topics: Topics, test_id: str
) -> AsyncIterator[Clients]:
    """The clients service: its API and its outbox relay (what publishes its events)."""
    platform = PlatformSettings.model_validate(_platform(kafka_bootstrap, mongodb_uri, topics))
    settings = ClientsSettings(
        platform=platform,
        database=f"rebuild_{test_id}_clients",
        consumer_group=f"rebuild-{test_id}-clients",
        vies_enabled=False,
        relay_poll_s=0.05,
    )
    service = clients_bootstrap(settings, register=SkippedRegister())
    await service.prepare()
    await service.runtime.broker.start()
    service.runtime.relay.start()
    yield service
    await service.runtime.relay.stop()
    await service.runtime.broker.stop()
    await service.close()


@pytest.fixture
async def clients_api(clients_service: Clients) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(clients_service))
    async with httpx.AsyncClient(transport=transport, base_url="http://clients") as client:
        yield client


@pytest.fixture
def delivery_env(kafka_bootstrap: str, mongodb_uri: str, topics: Topics, test_id: str) -> dict:
    return {
        **_platform(kafka_bootstrap, mongodb_uri, topics),
        "DELIVERY_DATABASE": f"rebuild_{test_id}_delivery",
        "DELIVERY_CONSUMER_GROUP": f"rebuild-{test_id}-delivery",
        "DELIVERY_SECRETS_KEY": SECRETS_KEY,
    }


@pytest.fixture
async def planner(delivery_env: dict[str, str]) -> AsyncIterator[Delivery]:
    """Delivery's planner, keeping ``client_routes`` from ClientCreated / ClientUpdated."""
    platform = PlatformSettings.model_validate(delivery_env)
    settings = DeliverySettings(
        platform=platform,
        database=delivery_env["DELIVERY_DATABASE"],
        consumer_group=delivery_env["DELIVERY_CONSUMER_GROUP"],
        secrets_key=SECRETS_KEY,
    )
    service = delivery_bootstrap(settings)
    worker = delivery_worker(service, role="planner")
    await worker.start()
    yield service
    await worker.stop()


def _admin(office: str) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="accountant-1", role=Role.ADMIN, language="en")
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


async def _routes(planner: Delivery) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d async for d in planner.deps.routes.collection.find({})}  # type: ignore[attr-defined]


async def _rebuild(env: dict[str, str]) -> dict[str, int]:
    """The command, as an operator runs it in a delivery pod."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portal_delivery.entrypoints.rebuild",
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    report: dict[str, int] = json.loads(out.decode().strip().splitlines()[-1])
    return report


async def test_a_wiped_read_model_is_rebuilt_equal_and_a_newer_copy_is_kept(
    clients_api: httpx.AsyncClient, planner: Delivery, delivery_env: dict[str, str]
) -> None:
    forms = {"office-a": [client_form(n) for n in (600, 601, 602)], "office-b": [client_form(603)]}
    ids: list[tuple[str, str]] = []
    for office, office_forms in forms.items():
        for form in office_forms:
            answer = await clients_api.post("/v1/clients", json=form, headers=_admin(office))
            assert answer.status_code == 201, answer.text
            ids.append((office, answer.json()["client_id"]))
    (office, edited), *_ = ids
    renamed = client_form(600, company={"name": "Bakkerij Renamed"})
    answer = await clients_api.put(
        f"/v1/clients/{edited}", json=renamed, headers={**_admin(office), "If-Match": '"1"'}
    )
    assert answer.status_code == 200, answer.text

    async def filled() -> dict[str, dict[str, Any]]:
        routes = await _routes(planner)
        if len(routes) == len(ids) and routes[f"{office}:{edited}"]["version"] == 2:
            return routes
        return {}

    before: dict[str, dict[str, Any]] = {}
    for _ in range(300):
        before = await filled()
        if before:
            break
        await asyncio.sleep(0.1)
    assert before, f"delivery's read model did not fill: {await _routes(planner)}"
    assert before[f"{office}:{edited}"]["company_name"] == "Bakkerij Renamed"

    # The read model is lost; meanwhile a newer version of one client came in live.
    await planner.deps.routes.collection.delete_many({})  # type: ignore[attr-defined]
    newer_office, newer_id = ids[2]
    newer = ClientRoute(newer_office, newer_id, 99, Integration(), company_name="Newer")
    assert await planner.deps.routes.keep_newest(newer)

    report = await _rebuild(delivery_env)
    # Four clients created, one edited: five states; the newer copy's is dropped, and the edited
    # client's first state too when both come in one fetch (they do here: one partition).
    assert (report["read"], report["unreadable"]) == (5, 0), report
    assert (report["stored"], report["kept"]) in {(3, 2), (4, 1)}, report
    after = await _routes(planner)
    newer_key = f"{newer_office}:{newer_id}"
    assert after[newer_key]["version"] == 99
    assert after[newer_key]["company_name"] == "Newer"
    assert {k: v for k, v in after.items() if k != newer_key} == {
        k: v for k, v in before.items() if k != newer_key
    }

    again = await _rebuild(delivery_env)  # idempotent: nothing newer to keep
    assert again == {"read": 5, "stored": 0, "kept": 5, "unreadable": 0}, again
    assert await _routes(planner) == after


async def test_services_deployed_later_build_their_copies_from_the_states(
    clients_api: httpx.AsyncClient,
    clients_service: Clients,
    kafka_bootstrap: str,
    mongodb_uri: str,
    topics: Topics,
    test_id: str,
) -> None:
    made = []
    for n in (610, 611):
        answer = await clients_api.post(
            "/v1/clients", json=client_form(n), headers=_admin("office-a")
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    edited = client_form(610, user={"email": "new.address@example.be", "language": "fr"})
    answer = await clients_api.put(
        f"/v1/clients/{made[0]['client_id']}",
        json=edited,
        headers={**_admin("office-a"), "If-Match": '"1"'},
    )
    assert answer.status_code == 200, answer.text
    made[0] = answer.json()
    outbox = clients_service.runtime.db["outbox"]
    for _ in range(200):
        if await outbox.count_documents({}) == 0:
            break
        await asyncio.sleep(0.05)
    platform = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONGODB_URI": mongodb_uri,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": topics.prefix,
    }

    ubl = ubl_bootstrap(
        UblSettings(
            platform=PlatformSettings.model_validate(platform), database=f"rebuild_{test_id}_ubl"
        )
    )
    try:
        report = await rebuild_ubl(ubl)
        assert (report.read, report.unreadable) == (3, 0)  # two created, one edited
        for client in made:
            kept = await ubl.deps.clients.get("office-a", client["client_id"])
            assert kept is not None
            assert (kept.version, kept.group_id) == (client["version"], client["group_id"])
        assert (await rebuild_ubl(ubl)).stored == 0  # again: nothing newer
    finally:
        await ubl.close()

    invitations = invitations_bootstrap(
        InvitationsSettings(
            platform=PlatformSettings.model_validate(platform),
            database=f"rebuild_{test_id}_invitations",
        )
    )
    try:
        report = await rebuild_invitations(invitations)
        assert (report.read, report.stored, report.unreadable) == (3, 2, 0)
        for client in made:
            access = await invitations.deps.access.get(client["client_id"])
            assert access is not None
            profile = access.profile
            assert (profile.version, profile.email, profile.language) == (
                client["version"],
                client["user"]["email"],
                client["user"]["language"],
            )
            assert access.open_invitation(datetime.now(UTC)) is None  # a state never invites
        assert (await rebuild_invitations(invitations)).stored == 0
    finally:
        await invitations.close()
