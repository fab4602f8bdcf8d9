"""The worker on the real broker and database: client settings from ClientCreated /
ClientUpdated; then a sales invoice of that client, committed by another process, carries its
ledger accounts and its software's profile, and the worker's relay publishes its DocumentReady."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

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
from portal_contracts.documents import DocumentReady
from portal_contracts.values import (
    AccountingSoftware,
    ClientStatus,
    DocumentKind,
    Language,
    SubscriptionMode,
    VatFrequency,
)
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.entrypoints.worker import create_worker
from portal_ubl.samples import make_pdf, sample_data
from portal_ubl.service.handlers import submit_document
from services.ubl.tests.integration.test_flow import read_events

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


async def test_the_worker_keeps_the_client_read_model_and_relays_what_the_api_commits(
    service: Service, kafka_bootstrap: str
) -> None:
    worker = create_worker(service)
    publisher = build_broker(kafka_bootstrap, client_id="ubl-consumer-test")
    await worker.start()
    await publisher.start()
    try:
        created = _snapshot(1, AccountingSoftware.OCTOPUS, "700200")
        updated = _snapshot(2, AccountingSoftware.WINBOOKS, "700300")
        topics = service.runtime.topics
        for event in (
            ClientCreated.new(office_id="office-1", payload=ClientCreatedPayload(client=created)),
            ClientUpdated.new(office_id="office-1", payload=ClientUpdatedPayload(client=updated)),
        ):
            await publish_event(publisher, topics, event)
        settings = None
        for _ in range(100):
            settings = await service.deps.clients.get("office-1", "client-7")
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
        api = bootstrap(service.settings)  # another process: its commit wakes the worker's relay
        document = await submit_document(cmd, api.deps)
        await api.close()
        assert document.profile == "winbooks"
        assert document.ubl is not None
        ubl = await service.deps.blobs.get(document.ubl.blob_id)
        assert b"<cbc:AccountingCost>700300</cbc:AccountingCost>" in ubl
        [record] = await read_events(kafka_bootstrap, topics.of(DocumentReady), expected=1)
        assert json.loads(record.value)["payload"]["document_id"] == document.document_id
    finally:
        await publisher.stop()
        await worker.stop()
