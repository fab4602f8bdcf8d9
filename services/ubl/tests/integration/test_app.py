"""The production app factory (settings from the environment, bootstrap, lifespan) against the
real servers: intake answers 201, the document and its event are committed (the worker
publishes), readiness reports the database."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_ubl.entrypoints.http import create_app
from portal_ubl.samples import make_pdf, sample_data

pytestmark = pytest.mark.integration
KEY = "integration-key-" + "x" * 32


async def test_the_app_boots_from_its_settings_and_takes_a_document(
    monkeypatch: pytest.MonkeyPatch,
    kafka_bootstrap: str,
    mongodb_uri: str,
    mongo_db: Any,
    test_id: str,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("MONGODB_URI", mongodb_uri)
    monkeypatch.setenv("PORTAL_JWT_KEY", KEY)
    monkeypatch.setenv("PORTAL_TOPIC_PREFIX", f"test.{test_id}.")
    monkeypatch.setenv("UBL_DATABASE", mongo_db.name)
    app = create_app()
    await mongo_db["client_settings"].insert_one(
        {"_id": "o1:c1", "office_id": "o1", "client_id": "c1", "version": 1, "group_id": "g"}
    )
    token = issue_token(Caller(office_id="o1", user_id="u1", role=Role.ADMIN), KEY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ubl") as client:
            ready = await client.get("/readyz")
            assert ready.json() == {"status": "ready", "checks": {"mongodb": "ok"}}
            response = await client.post(
                "/v1/documents",
                data={
                    "kind": "sales_invoice",
                    "client_id": "c1",
                    "data": json.dumps(sample_data(lines=2)),
                },
                files={"pdf": ("f.pdf", make_pdf(), "application/pdf")},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 201, response.text
    assert await mongo_db["documents"].count_documents({}) == 1
    assert await mongo_db["outbox"].count_documents({}) == 1
