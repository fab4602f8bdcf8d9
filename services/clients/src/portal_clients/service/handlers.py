"""Every handler of the service in one place, by what it handles.

The HTTP routers and the Kafka subscribers call these plain functions ``verb(input, [caller,]
deps)``; tests call them with fakes (tests/fakes.py) or with the real adapters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from portal_clients.service import clients, events, imports, office, states

HANDLERS: dict[str, Callable[..., Awaitable[Any]]] = {
    # the accountant's actions (HTTP)
    "create_client": clients.create_client,
    "get_client": clients.get_client,
    "update_client": clients.update_client,
    "archive_client": clients.archive_client,
    "restore_client": clients.restore_client,
    "list_clients": clients.list_clients,
    "check_availability": clients.check_availability,
    "list_groups": office.list_groups,
    "create_group": office.create_group,
    "rename_group": office.rename_group,
    "set_group_staff": office.set_group_staff,
    "delete_group": office.delete_group,
    "groups_of_staff": office.groups_of_staff,
    "get_settings": office.get_settings,
    "save_settings": office.save_settings,
    "get_profile": office.get_profile,
    "save_profile": office.save_profile,
    "connection_names": office.connection_names,
    # events from other services (Kafka)
    "ImportValidated": imports.import_validated,
    "ClientInvited": events.client_invited,
    "ClientActivated": events.client_activated,
    "ClientInvitationRevoked": events.invitation_revoked,
    "ClientInvitationFailed": events.invitation_failed,
    "ConnectionsChanged": events.connections_changed,
    # the worker's own schedule
    "recheck_vat": events.recheck_vat,
    "release_archived_claims": clients.release_archived_claims,
    # operations (entrypoints/republish_states.py)
    "republish_states": states.republish_states,
}
