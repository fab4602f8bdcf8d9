"""Kafka edge: the clients this service knows of, with the settings it needs (group, accounting
software, sales ledger accounts), from ClientCreated / ClientUpdated. Each subscriber only
translates and hands over; a redelivered or late event changes nothing (versions only grow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaRouter

from portal_contracts.broker import subscriber_options
from portal_contracts.clients import ClientCreated, ClientSnapshot, ClientUpdated
from portal_ubl.domain.document import ClientSettings, LedgerAccount
from portal_ubl.service.handlers import record_client_settings

if TYPE_CHECKING:
    from portal_ubl.bootstrap import Service


def settings_from(office_id: str, client: ClientSnapshot) -> ClientSettings:
    software = client.integration.accounting_software
    return ClientSettings(
        office_id=office_id,
        client_id=client.client_id,
        version=client.version,
        accounting_software=software.value if software else None,
        sales_ledger_accounts=tuple(
            LedgerAccount(a.code, a.label, a.default) for a in client.sales_ledger_accounts
        ),
        group_id=client.group_id,
        archived=client.archived_at is not None,
    )


def build_router(service: Service) -> KafkaRouter:
    router = KafkaRouter()
    topics = service.runtime.topics

    @router.subscriber(
        topics.of(ClientCreated),
        topics.of(ClientUpdated),
        **subscriber_options(service.settings.consumer_group),
    )
    async def on_client_event(body: dict[str, Any]) -> None:
        event_type = ClientCreated if body.get("event_type") == "ClientCreated" else ClientUpdated
        event = event_type.model_validate(body)
        await record_client_settings(
            settings_from(event.office_id, event.payload.client), service.deps
        )

    return router
