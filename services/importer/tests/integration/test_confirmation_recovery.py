"""A confirmation and its ImportValidated chunks on the real server and broker: committed together
or not at all; a very big import whose confirmer died half-way is finished by one of two
workers, each chunk published once; rows the rules now refuse keep the import back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.identity import Caller, Role
from portal_contracts.imports import (
    ImportRejected,
    ImportRejectedPayload,
    ImportValidated,
    RejectedRow,
)
from portal_contracts.topics import Topics
from portal_contracts.values import Language
from portal_importer.adapters import mongo
from portal_importer.bootstrap import Service, bootstrap
from portal_importer.config import Settings
from portal_importer.domain.chunks import Chunk
from portal_importer.domain.commands import Confirm
from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.entrypoints.http import create_app
from portal_importer.entrypoints.worker import create_worker
from portal_importer.samples import client_row, fill_template
from portal_importer.service.handlers import confirm, record_rejection

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Auth = Callable[..., dict[str, str]]
ADMIN = Caller(office_id="office-a", user_id="u-1", role=Role.ADMIN, language=Language.FR)


async def _upload(api: httpx.AsyncClient, auth: Auth, rows: int) -> str:
    data = fill_template([client_row(n) for n in range(1, rows + 1)])
    created = await api.post("/v1/imports", files={"file": ("c.xlsx", data, XLSX)}, headers=auth())
    assert created.status_code == 201, created.text
    import_id: str = created.json()["id"]
    return import_id


async def queued(service: Service) -> list[ImportValidated]:
    records = await service.runtime.db["outbox"].find({}).sort("_id", 1).to_list()
    return [ImportValidated.model_validate_json(e["body"]) for r in records for e in r["events"]]


async def _stored(service: Service, import_id: str) -> ImportRecord:
    record = await service.deps.imports.get("office-a", import_id)
    assert record is not None
    return record


async def test_the_confirmation_and_its_chunks_commit_together(
    api: httpx.AsyncClient, auth: Auth, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = await _upload(api, auth, 3)

    async def dies(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the API died between the import and its chunks")

    monkeypatch.setattr(mongo, "add_encoded", dies)
    with pytest.raises(ConnectionError):
        await confirm(Confirm(ADMIN, "", import_id), service.deps)
    left = await _stored(service, import_id)
    assert (left.status, left.revision) == (ImportStatus.PENDING, 0)  # rolled back
    assert await queued(service) == []
    monkeypatch.undo()

    assert (await api.post(f"/v1/imports/{import_id}/confirm", headers=auth())).status_code == 202
    events = await queued(service)
    assert [r.row_number for e in events for r in e.payload.rows] == [3, 4, 5]
    assert (await _stored(service, import_id)).status is ImportStatus.CONFIRMED


class DiesAfterItsFirstTransaction(mongo.MongoImports):
    async def resume_confirmation(self, record: ImportRecord, chunks: Sequence[Chunk]) -> None:
        raise ConnectionError("the API died after the confirmation's first transaction")


async def _chunks_on_kafka(kafka: str, topic: str, import_id: str) -> list[ImportValidated]:
    """Every chunk of the import, then 2 s more to see one published twice."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[ImportValidated] = []
    try:
        async with asyncio.timeout(90):
            while (
                not found
                or len({e.payload.chunk_index for e in found}) < found[0].payload.chunk_count
            ):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [ImportValidated.model_validate_json(r.value) for r in records]
        for records in (await consumer.getmany(timeout_ms=2000)).values():
            found += [ImportValidated.model_validate_json(r.value) for r in records]
    finally:
        await consumer.stop()
    return [e for e in found if e.payload.import_id == import_id]


async def test_an_interrupted_confirmation_is_finished_by_one_of_two_workers(
    importer_settings: Settings,
    mongo_db: Any,
    auth: Auth,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    # Small transactions, so that 3,000 rows (~2 MB of events) take several of them.
    settings = importer_settings.model_copy(
        update={"confirm_transaction_bytes": 600_000, "resume_after_s": 0.5, "resume_poll_s": 0.2}
    )
    api_side = bootstrap(settings)
    await api_side.prepare()
    workers = [create_worker(bootstrap(settings)) for _ in range(2)]
    try:
        transport = httpx.ASGITransport(app=create_app(api_side))
        async with httpx.AsyncClient(transport=transport, base_url="http://i", timeout=120) as api:
            import_id = await _upload(api, auth, 3000)
        api_side.deps.imports = DiesAfterItsFirstTransaction(
            api_side.runtime, transaction_bytes=600_000, resume_after=timedelta(seconds=0.5)
        )
        with pytest.raises(ConnectionError):
            await confirm(Confirm(ADMIN, "", import_id), api_side.deps)
        first = await queued(api_side)
        assert [e.payload.chunk_index for e in first] == [0]  # only the first transaction's
        assert first[0].payload.chunk_count > 2
        assert (await _stored(api_side, import_id)).status is ImportStatus.CONFIRMED

        for worker in workers:
            await worker.start()
        events = await _chunks_on_kafka(kafka_bootstrap, topics.of(ImportValidated), import_id)
    finally:
        for worker in workers:
            await worker.stop()
        await api_side.close()
    count = events[0].payload.chunk_count
    assert sorted(e.payload.chunk_index for e in events) == list(range(count))  # each once
    assert [r.row_number for e in events for r in e.payload.rows] == list(range(3, 3003))
    assert len({e.correlation_id for e in events}) == 1


async def test_a_client_kept_under_another_contract_is_normalised_again(
    api: httpx.AsyncClient, auth: Auth, service: Service
) -> None:
    import_id = await _upload(api, auth, 3)
    rows = service.runtime.db["import_rows"]
    await rows.update_one({"import_id": import_id, "row": 4}, {"$set": {"client": {"old": 1}}})
    assert (await api.post(f"/v1/imports/{import_id}/confirm", headers=auth())).status_code == 202
    emails = [r.client.user.email for e in await queued(service) for r in e.payload.rows]
    assert emails == [f"client{n}@bureau-example.be" for n in (1, 2, 3)]


async def test_rows_the_rules_now_refuse_keep_the_import_back(
    api: httpx.AsyncClient, auth: Auth, service: Service
) -> None:
    """A row whose kept client no longer fits the contract and whose cells the rules now
    refuse: the confirmation is refused with that row flagged, nothing is queued."""
    import_id = await _upload(api, auth, 2)
    rows = service.runtime.db["import_rows"]
    stored = await rows.find_one({"import_id": import_id, "row": 4})
    assert stored is not None
    cells = [[k, "plus une adresse" if k == "user.email" else v] for k, v in stored["cells"]]
    await rows.update_one({"_id": stored["_id"]}, {"$set": {"client": None, "cells": cells}})
    refused = await api.post(f"/v1/imports/{import_id}/confirm", headers=auth())
    assert refused.status_code == 422
    assert [(e["row"], e["code"]) for e in refused.json()["report"]["errors"]] == [
        (4, "email.syntax")
    ]
    assert await queued(service) == []
    assert (await _stored(service, import_id)).status is ImportStatus.PENDING


async def test_a_row_fixed_after_a_rejection_goes_out_with_its_new_client(
    api: httpx.AsyncClient, auth: Auth, service: Service
) -> None:
    import_id = await _upload(api, auth, 2)
    url = f"/v1/imports/{import_id}"
    assert (await api.post(f"{url}/confirm", headers=auth())).status_code == 202
    rejection = ImportRejected.new(
        office_id="office-a",
        payload=ImportRejectedPayload(
            import_id=import_id,
            version=1,
            rows=[RejectedRow(row_number=4, field="user.email", code="email.taken")],
        ),
    )
    assert await record_rejection(rejection, service.deps)
    fix = {"cells": {"user.email": "Autre@Bureau-Example.be "}}
    fixed = await api.patch(f"{url}/rows/4", json=fix, headers=auth())
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["report"]["valid"] is True
    assert (await api.post(f"{url}/confirm", headers=auth())).status_code == 202
    second = [e for e in await queued(service) if e.payload.version == 2]
    assert [r.client.user.email for e in second for r in e.payload.rows] == [
        "client1@bureau-example.be",
        "autre@bureau-example.be",
    ]
