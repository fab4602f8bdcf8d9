"""Every handler of the delivery service, by what it handles (entrypoints call them with the
dependencies bootstrap.py wires, tests with fakes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal_contracts.clients import ClientCreated, ClientUpdated
from portal_contracts.delivery import DeliveryRequested
from portal_contracts.documents import DocumentReady
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged
from portal_delivery.service import agent_keys, office, planning, pull, sending

HANDLERS: dict[object, Callable[..., Any]] = {
    DocumentReady: planning.plan_document,
    ClientCreated: planning.remember_client_route,
    ClientUpdated: planning.remember_client_route,
    OfficeSettingsChanged: planning.remember_office_defaults,
    OfficeProfileChanged: planning.remember_office_profile,
    DeliveryRequested: sending.deliver_requested,
    "scheduler": sending.dispatch_due,
    "connections.list": office.list_connections,
    "connections.save": office.save_connection,
    "connections.delete": office.delete_connection,
    "connections.test": office.test_connection,
    "connections.trust_host_key": office.trust_host_key,
    "identity.get": office.get_identity,
    "identity.save": office.save_identity,
    "deliveries.list": office.list_deliveries,
    "deliveries.get": office.get_delivery,
    "deliveries.retry": office.retry_delivery,
    "agent_keys.issue": agent_keys.issue_agent_key,
    "agent_keys.list": agent_keys.list_agent_keys,
    "agent_keys.revoke": agent_keys.revoke_agent_key,
    "agent.feed": pull.feed,
    "agent.download": pull.download,
    "agent.acknowledge": pull.acknowledge,
    "agent.acknowledge_all": pull.acknowledge_all,
    "agent.refuse": pull.refuse,
}
