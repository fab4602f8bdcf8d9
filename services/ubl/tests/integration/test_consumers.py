"""Client settings from ClientCreated / ClientUpdated, through the real broker into FerretDB;
then a sales invoice of that client carries its ledger accounts and its software's profile."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import (
    ClientCreated,
    ClientCreatedPayload,
    ClientSnapshot,
    ClientUpdated,
    ClientUpdatedPayload,
    ClientUser,
    Company,
    Integration,
    SalesLedgerAccount,
    VatCheck,
)
from portal_contracts.topics import Topics
from portal_contracts.values import (
    AccountingSoftware,
    ClientStatus,
    DocumentKind,
    Language,
    SubscriptionMode,
    VatFrequency,
)
from portal_ubl.bootstrap import wire
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.entrypoints.consumers import build_router
from portal_ubl.service.handlers import submit_document
from portal_ubl.testing import make_pdf, sample_data

pytestmark = pytest.mark.integration


def _snapshot(version: int, software: AccountingSoftware, default: str) -> ClientSnapshot:
    now = datetime.now(UTC)
    return ClientSnapshot(
        client_id="client-7",
        version=version,
        status=ClientStatus.ACTIVE,
        vat_check=VatCheck.VALID,
        created_at=now,
        updated_at=now,
        group_id="everyone",
        company=Company(
            vat_number="BE0403170701",
            name="Société",
            subscription_mode=SubscriptionMode.DELIVERY_ONLY,
            vat_frequency=VatFrequency.QUARTERLY,
        ),
        user=ClientUser(
            first_name="An",
            last_name="Peeters",
            email="an@example.be",
            mobile_phone="+32470123456",
            language=Language.NL,
        ),
        integration=Integration(accounting_software=software),
        sales_ledger_accounts=[
            SalesLedgerAccount(code="700000", label="Ventes"),
            SalesLedgerAccount(code=default, label="Défaut", default=True),
        ],
    )


async def test_client_events_feed_the_settings_used_at_intake(
    mongo_db: Any, kafka_bootstrap: str, topics: Topics, group_id: str
) -> None:
    broker = build_broker(kafka_bootstrap, client_id="ubl-consumer-test")
    deps = await wire(mongo_db, broker, topics)
    broker.include_router(build_router(topics, lambda: deps, group_id))
    await broker.start()
    try:
        await publish_event(
            broker,
            topics,
            ClientCreated.new(
                office_id="office-1",
                payload=ClientCreatedPayload(
                    client=_snapshot(1, AccountingSoftware.OCTOPUS, "700200")
                ),
            ),
        )
        await publish_event(
            broker,
            topics,
            ClientUpdated.new(
                office_id="office-1",
                payload=ClientUpdatedPayload(
                    client=_snapshot(2, AccountingSoftware.WINBOOKS, "700300")
                ),
            ),
        )
        settings = None
        for _ in range(100):
            settings = await deps.clients.get("office-1", "client-7")
            if settings is not None and settings.version == 2:
                break
            await asyncio.sleep(0.2)
        assert settings is not None
        assert settings.version == 2
        assert settings.accounting_software == "winbooks"
        assert settings.default_account() == "700300"

        cmd = SubmitDocument(
            "office-1",
            "client-7",
            DocumentKind.SALES_INVOICE,
            pdf=make_pdf(),
            data=json.dumps(sample_data(lines=1)).encode(),
        )
        document = await submit_document(cmd, deps)
        assert document.profile == "winbooks"
        assert document.ubl is not None
        ubl = await deps.blobs.get(document.ubl.blob_id)
        assert b"<cbc:AccountingCost>700300</cbc:AccountingCost>" in ubl
    finally:
        await broker.stop()
