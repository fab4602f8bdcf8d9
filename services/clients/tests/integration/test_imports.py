"""ImportValidated -> all of an import's clients or none, idempotent per (import, row), answered
with ImportCommitted or ImportRejected; on the real Kafka and MongoDB-wire server, in one
transaction and in batches, with a crash after every transaction."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from portal_client_rules import OfficeRules, check_client
from portal_clients.service import imports
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


async def _outbox_types(db) -> list[str]:
    records = await db["outbox"].find({}).sort("_id", 1).to_list()
    return [event["type"] for record in records for event in record["events"]]


async def test_an_import_appears_whole_once_every_chunk_is_in(
    api, auth, worker, topics, read_topic
) -> None:
    first, second = chunks("imp-1", [[2, 3, 4], [5, 6]])
    db = worker.runtime.db
    await publish_event(worker.runtime.broker, topics, first)
    await publish_event(worker.runtime.broker, topics, first)  # redelivered chunk

    for _ in range(300):
        if await db["import_chunks"].count_documents({}) == 1:
            break
        await asyncio.sleep(0.1)
    assert await db["import_chunks"].count_documents({}) == 1
    assert await db["clients"].count_documents({}) == 0  # nothing before the last chunk
    assert await _listed(api, auth) == []

    await publish_event(worker.runtime.broker, topics, second)
    [answer] = await read_topic(topics.of(ImportCommitted), 1)
    committed = ImportCommitted.model_validate(answer["value"])
    assert sorted(committed.payload.client_ids) == [2, 3, 4, 5, 6]
    assert sorted(await _listed(api, auth)) == sorted(committed.payload.client_ids.values())

    created = await read_topic(topics.of(ClientCreated), 5)
    payloads = [ClientCreated.model_validate(r["value"]).payload for r in created]
    assert sorted(p.origin.row_number for p in payloads if p.origin) == [2, 3, 4, 5, 6]
    assert {p.origin.row_number: p.invite for p in payloads if p.origin}[4] is True
    assert all(p.client.vat_check.value == "pending" for p in payloads)

    await publish_event(worker.runtime.broker, topics, second)  # redelivered after the commit
    await asyncio.sleep(2)
    assert len(await read_topic(topics.of(ImportCommitted), 2, timeout=5)) == 1
    assert await db["clients"].count_documents({}) == 5
    assert await db["import_chunks"].count_documents({}) == 0  # kept only until the outcome


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
    await publish_event(worker.runtime.broker, topics, chunk)
    [answer] = await read_topic(topics.of(ImportRejected), 1)
    rejected = ImportRejected.model_validate(answer["value"])
    assert [(r.row_number, r.field, r.code) for r in rejected.payload.rows] == [
        (21, "user.email", "email.taken")
    ]
    assert await _listed(api, auth) == [taken.json()["client_id"]]
    assert await worker.runtime.db["clients"].count_documents({"origin.import_id": "imp-2"}) == 0
    free = await api.post(
        "/v1/clients/availability",
        json={"vat_numbers": [client_form(20)["company"]["vat_number"]]},
        headers=auth(),
    )
    assert list(free.json()["vat_numbers"].values()) == ["available"]
    created = await read_topic(topics.of(ClientCreated), 2, timeout=5)
    assert len(created) == 1  # only the client added through the API


async def test_a_row_losing_a_race_after_the_check_rejects_the_import_and_keeps_nothing(
    service, api, auth
) -> None:
    """The unique index decides a race the pre-check could not see: here the e-mail of row 42
    is taken between the check and the insert (in a batch after two stored ones)."""
    imports_store = service.deps.imports
    imports_store.rows_per_transaction = 2
    [chunk] = chunks(f"imp-{uuid.uuid4().hex[:6]}", [[40, 41, 42, 43, 44]])
    racing = client_form(98, user={"email": client_form(42)["user"]["email"]})
    original = imports_store._batch

    def batch_after_a_race(key, number, docs, held):
        work = original(key, number, docs, held)

        async def racing_work(session):
            if number == 1 and not await service.runtime.db["clients"].find_one({"_id": "x"}):
                await service.runtime.db["clients"].insert_one({"_id": "x"})  # once
                assert (
                    await api.post("/v1/clients", json=racing, headers=auth())
                ).status_code == 201
            await work(session)

        return racing_work

    imports_store._batch = batch_after_a_race
    await imports.import_validated(chunk, service.deps)
    await service.runtime.db["clients"].delete_one({"_id": "x"})
    db = service.runtime.db
    assert await db["clients"].count_documents({"origin.import_id": chunk.payload.import_id}) == 0
    assert await db["import_events"].count_documents({}) == 0
    assert await _outbox_types(db) == [
        "ClientCreated",
        "ClientState",
        "ImportRejected",
    ]  # the API's
    record = await db["imports"].find_one({"_id": f"{chunk.payload.import_id}:1"})
    assert record["state"] == "rejected"
    assert len(await _listed(api, auth)) == 1


class CrashAfterTransactions:
    """Stands for the runtime and dies right after its ``n``-th transaction committed, as a
    worker SIGKILLed there would."""

    def __init__(self, runtime, n: int) -> None:
        self.runtime = runtime
        self.left = n

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    async def transaction(self, work):
        if self.left == 0:
            raise RuntimeError("killed")
        result = await self.runtime.transaction(work)
        self.left -= 1
        return result


@pytest.mark.parametrize(
    ("rows_per_transaction", "crash_after"),
    [(10, n) for n in range(4)] + [(2, n) for n in range(11)],
)
async def test_a_crash_after_any_transaction_resumes_to_the_same_single_outcome(
    service, api, auth, rows_per_transaction, crash_after
) -> None:
    store = service.deps.imports
    store.rows_per_transaction = rows_per_transaction
    parts = chunks(f"imp-{uuid.uuid4().hex[:6]}", [[30, 31], [32, 33, 34]])
    real_runtime = store.runtime
    store.runtime = CrashAfterTransactions(real_runtime, crash_after)
    try:
        for part in parts:
            await imports.import_validated(part, service.deps)
    except RuntimeError:
        pass
    finally:
        store.runtime = real_runtime
    assert len(await _listed(api, auth)) in {0, 5}  # never a part of the import
    for part in parts:  # redelivered after the restart (the last one is what resumes)
        await imports.import_validated(part, service.deps)
    await imports.import_validated(parts[-1], service.deps)  # and once more
    db = service.runtime.db
    assert len(await _listed(api, auth)) == 5
    record = await db["imports"].find_one({"_id": f"{parts[0].payload.import_id}:1"})
    assert record["state"] == "committed"
    assert await db["clients"].count_documents({}) == 5
    types = await _outbox_types(db)  # each client's state with its event, the answer last
    assert sorted(types[:-1]) == ["ClientCreated"] * 5 + ["ClientState"] * 5
    assert types[-1] == "ImportCommitted"
    assert await db["import_events"].count_documents({}) == 0
    assert await db["import_chunks"].count_documents({}) == 0
    events = [e for r in await db["outbox"].find({}).to_list() for e in r["events"]]
    assert len({e["key"] for e in events}) == 6  # each client once, then the import


async def test_a_batched_import_is_invisible_until_committed(service, api, auth) -> None:
    store = service.deps.imports
    store.rows_per_transaction = 2
    parts = chunks(f"imp-{uuid.uuid4().hex[:6]}", [[50, 51, 52, 53, 54]])
    real_runtime = store.runtime
    store.runtime = CrashAfterTransactions(real_runtime, 3)  # receive, begin, first batch
    with pytest.raises(RuntimeError):
        await imports.import_validated(parts[0], service.deps)
    store.runtime = real_runtime
    db = service.runtime.db
    stored = await db["clients"].find({}, {"_id": 1}).to_list()
    assert len(stored) == 2  # the first batch is stored...
    assert await _listed(api, auth) == []  # ...and seen by nobody
    assert (await api.get(f"/v1/clients/{stored[0]['_id']}", headers=auth())).status_code == 404
    await imports.import_validated(parts[0], service.deps)
    assert len(await _listed(api, auth)) == 5
    assert (await api.get(f"/v1/clients/{stored[0]['_id']}", headers=auth())).status_code == 200


async def test_a_row_marked_dont_check_is_never_sent_to_the_register(service) -> None:
    """The template's "don't check the VAT number" column: kept with the stored chunk, the
    client is created ``skipped`` with no check scheduled; the other rows pend as before."""
    first, second = chunks("imp-skip", [[2], [3]])
    skipped = [first.payload.rows[0].model_copy(update={"skip_vat_check": True})]
    first = first.model_copy(update={"payload": first.payload.model_copy(update={"rows": skipped})})
    await imports.import_validated(first, service.deps)  # kept in import_chunks
    await imports.import_validated(second, service.deps)
    db = service.runtime.db
    by_row = {
        doc["origin"]["row_number"]: doc
        async for doc in db["clients"].find({}, {"origin": 1, "vat_check": 1, "due_at": 1})
    }
    assert by_row[2]["vat_check"] == "skipped"
    assert "due_at" not in by_row[2]
    assert by_row[3]["vat_check"] == "pending"
    assert "due_at" in by_row[3]
