"""ImportValidated -> all of an import's clients or none, idempotent per (import, row), answered
with ImportCommitted or ImportRejected; on the real Kafka and FerretDB."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest

from portal_client_rules import OfficeRules, check_client
from portal_clients.service import events
from portal_clients.testing.samples import client_form
from portal_contracts.broker import publish_event
from portal_contracts.clients import ClientCreated
from portal_contracts.imports import (
    ImportCommitted,
    ImportRejected,
    ImportRow,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.values import TransferMethod

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

RULES = OfficeRules(
    enabled_transfer_methods=frozenset({TransferMethod.MANUAL}), group_ids=None, today=date.today()
)


def chunks(
    import_id: str, numbers: list[list[int]], office: str = "office-a"
) -> list[ImportValidated]:
    total = sum(len(c) for c in numbers)
    return [
        ImportValidated.new(
            office_id=office,
            payload=ImportValidatedPayload(
                import_id=import_id,
                version=1,
                chunk_index=index,
                chunk_count=len(numbers),
                row_count=total,
                rows=[
                    ImportRow(
                        row_number=n, invite=n % 2 == 0, client=check_client(client_form(n), RULES)
                    )
                    for n in rows
                ],
            ),
        )
        for index, rows in enumerate(numbers)
    ]


async def _listed(api, auth) -> list[str]:
    return [
        i["client_id"]
        for i in (await api.get("/v1/clients", params={"limit": 200}, headers=auth())).json()[
            "items"
        ]
    ]


async def test_an_import_appears_whole_once_every_chunk_is_in(
    api, auth, worker, topics, read_topic
) -> None:
    first, second = chunks("imp-1", [[2, 3, 4], [5, 6]])
    assert worker.broker is not None
    await publish_event(worker.broker, topics, first)
    await publish_event(worker.broker, topics, first)  # redelivered chunk

    async def hidden_count() -> int:
        return await worker.db["clients"].count_documents({"import_ref": "imp-1:1"})

    for _ in range(300):
        if await hidden_count() == 3:
            break
        await asyncio.sleep(0.1)
    assert await hidden_count() == 3
    assert await _listed(api, auth) == []  # an unfinished import is not listed

    await publish_event(worker.broker, topics, second)
    [answer] = await read_topic(topics.of(ImportCommitted), 1)
    committed = ImportCommitted.model_validate(answer["value"])
    assert sorted(committed.payload.client_ids) == [2, 3, 4, 5, 6]
    expected = sorted(committed.payload.client_ids.values())
    for _ in range(100):  # a list learns of the worker's writes within a second
        if sorted(await _listed(api, auth)) == expected:
            break
        await asyncio.sleep(0.1)
    assert sorted(await _listed(api, auth)) == expected

    created = await read_topic(topics.of(ClientCreated), 5)
    payloads = [ClientCreated.model_validate(r["value"]).payload for r in created]
    assert sorted(p.origin.row_number for p in payloads if p.origin) == [2, 3, 4, 5, 6]
    assert {p.origin.row_number: p.invite for p in payloads if p.origin}[4] is True
    assert all(p.client.vat_check.value == "pending" for p in payloads)

    await publish_event(worker.broker, topics, second)  # redelivered after the commit
    await asyncio.sleep(2)
    assert len(await read_topic(topics.of(ImportCommitted), 2, timeout=5)) == 1
    assert await worker.db["clients"].count_documents({}) == 5


async def test_a_row_that_lost_a_race_rejects_the_whole_import(
    api, auth, worker, topics, read_topic
) -> None:
    [chunk] = chunks("imp-2", [[20, 21, 22]])
    taken = await api.post(
        "/v1/clients",
        json=client_form(99, user={"email": client_form(21)["user"]["email"]}),
        headers=auth(),
    )
    assert taken.status_code == 201
    assert worker.broker is not None
    await publish_event(worker.broker, topics, chunk)
    [answer] = await read_topic(topics.of(ImportRejected), 1)
    rejected = ImportRejected.model_validate(answer["value"])
    assert [(r.row_number, r.field, r.code) for r in rejected.payload.rows] == [
        (21, "user.email", "email.taken")
    ]
    assert await _listed(api, auth) == [taken.json()["client_id"]]
    assert await worker.db["clients"].count_documents({"import_ref": "imp-2:1"}) == 0
    free = await api.post(
        "/v1/clients/availability",
        json={"vat_numbers": [client_form(20)["company"]["vat_number"]]},
        headers=auth(),
    )
    assert list(free.json()["vat_numbers"].values()) == ["available"]  # its claim was released
    created = await read_topic(topics.of(ClientCreated), 2, timeout=5)
    assert len(created) == 1  # only the client added through the API


class CrashAfter:
    """Wraps the import store and fails at a chosen step, as a process killed there would."""

    def __init__(self, inner, step: str) -> None:
        self.inner = inner
        self.step = step

    def __getattr__(self, name):
        method = getattr(self.inner, name)
        if name != self.step:
            return method

        async def crashing(*args, **kwargs):
            await method(*args, **kwargs)
            raise RuntimeError(f"crashed after {name}")

        return crashing


@pytest.mark.parametrize("step", ["insert_hidden", "record_chunk", "commit"])
async def test_a_crash_at_any_step_resumes_to_the_same_single_outcome(
    service, api, auth, step
) -> None:
    import dataclasses

    [chunk] = chunks(f"imp-{uuid.uuid4().hex[:6]}", [[30, 31, 32]])
    crashing = dataclasses.replace(service.deps, imports=CrashAfter(service.deps.imports, step))
    with pytest.raises(RuntimeError):
        await events.import_validated(chunk, crashing)
    await events.import_validated(chunk, service.deps)  # redelivered after the restart
    await events.import_validated(chunk, service.deps)  # and once more
    assert len(await _listed(api, auth)) == 3
    key = f"{chunk.payload.import_id}:1"
    record = await service.db["imports"].find_one({"_id": key})
    assert record["state"] == "committed"
    recorded = await service.db["import_chunks"].find_one({"_id": f"{key}:0"})
    assert recorded["rows"] == [30, 31, 32]
    assert len(set(recorded["client_ids"])) == 3
    assert [e["event_type"] for e in record["outbox"]] == ["ImportCommitted"]
    markers = await service.db["outbox_markers"].find({"kind": "import"}).to_list()
    assert len(markers) == 1
    held = await service.db["import_outbox"].find_one({"_id": f"{key}:0"})
    # One ClientCreated per client, no duplicate, waiting for the relay (not running here).
    assert sorted(e["key"] for e in json.loads(held["entries"])) == sorted(recorded["client_ids"])


async def test_a_relay_dying_mid_import_resumes_with_the_unpublished_chunks(service) -> None:
    """Each chunk's events are deleted once published: a relay that dies in the middle of an
    import publishes, after its restart, what was not yet out, then the answer, last."""
    from portal_clients.adapters.relay import MarkerRelay

    first, second, third = chunks(f"imp-{uuid.uuid4().hex[:6]}", [[40, 41], [42, 43], [44]])
    for chunk in (first, second, third):
        await events.import_validated(chunk, service.deps)
    sent: list[dict] = []

    async def dies_at_the_third_event(entry: dict) -> None:
        if len(sent) == 2:
            raise ConnectionError("broker gone")
        sent.append(entry)

    async def publish(entry: dict) -> None:
        sent.append(entry)

    with pytest.raises(ConnectionError):
        await MarkerRelay(service.db, dies_at_the_third_event).relay_once()
    assert [e["event_type"] for e in sent] == ["ClientCreated", "ClientCreated"]
    await MarkerRelay(service.db, publish).relay_once()
    types = [e["event_type"] for e in sent]
    assert types == ["ClientCreated"] * 5 + ["ImportCommitted"]  # no chunk twice, answer last
    assert len({e["key"] for e in sent[:5]}) == 5
    assert await service.db["import_outbox"].count_documents({}) == 0
    assert await service.db["outbox_markers"].count_documents({}) == 0
