"""Handlers of the office's own actions: its connections (admins only) and its ledger (every user,
within the groups they may see)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from portal_contracts.identity import Caller, Role
from portal_delivery.domain.connections import (
    CHANNEL,
    SOLE_KIND,
    Connection,
    EmailIdentity,
    Kind,
    accept_host_key,
    build,
)
from portal_delivery.domain.delivery import Delivery, State
from portal_delivery.ports import ConnectionTester, DeliveryQuery, Probe
from portal_delivery.service.deps import Deps


class NotFound(Exception):
    pass


class Forbidden(Exception):
    pass


class NotRetryable(Exception):
    pass


class ConnectionInUse(Exception):
    """Clients still deliver through it: deleting it would leave their documents nowhere."""

    def __init__(self, clients: int) -> None:
        super().__init__(f"{clients} clients use this connection")
        self.clients = clients


def visible_groups(caller: Caller) -> frozenset[str] | None:
    return caller.visible_groups()  # the one rule, in contracts: their groups and "Everyone"


def _admin(caller: Caller) -> None:
    if caller.role is not Role.ADMIN:
        raise Forbidden("connections are an admin's")


# --- connections ---------------------------------------------------------------------------------


async def list_connections(caller: Caller, deps: Deps) -> list[Connection]:
    _admin(caller)
    return await deps.connections.all(caller.office_id)


async def save_connection(
    caller: Caller,
    name: str,
    kind: Kind,
    settings: Mapping[str, Any],
    secrets: Mapping[str, str],
    expected_version: int | None,
    deps: Deps,
) -> Connection:
    """Create (``expected_version`` 0) or replace a connection; secrets left out are kept."""
    _admin(caller)
    stored = await deps.connections.get(caller.office_id, name)
    based_on = _based_on(stored, expected_version, name)
    kept = stored.secrets if stored is not None and stored.kind is kind else {}
    connection = build(caller.office_id, name, kind, settings, secrets, kept_secrets=kept)
    return await deps.connections.save(connection, based_on)


def _based_on(stored: Connection | None, expected_version: int | None, name: str) -> int:
    """The version an edit is based on: ``expected_version`` None (``If-Match: *``) is the
    stored one's, whichever it is; an edit of nothing (0 creates) is :class:`NotFound`."""
    if stored is None:
        if expected_version != 0:
            raise NotFound(name)
        return 0
    return stored.version if expected_version is None else expected_version


async def delete_connection(
    caller: Caller, name: str, expected_version: int | None, deps: Deps
) -> None:
    _admin(caller)
    stored = await deps.connections.get(caller.office_id, name)
    if stored is None:
        raise NotFound(name)
    method = CHANNEL[stored.kind]
    named = None if method in SOLE_KIND else stored.name
    clients = await deps.routes.using(caller.office_id, method, named)
    if clients:
        raise ConnectionInUse(clients)
    based_on = stored.version if expected_version is None else expected_version
    await deps.connections.delete(caller.office_id, name, based_on)


async def test_connection(
    caller: Caller, name: str, tester_for: Callable[[Kind], ConnectionTester], deps: Deps
) -> Probe:
    """The channel's probe of a stored connection; its tester (and the channel's library) is
    made only then, so a connection that does not exist is answered at once."""
    _admin(caller)
    connection = await deps.connections.get(caller.office_id, name)
    if connection is None:
        raise NotFound(name)
    return await tester_for(connection.kind).probe(connection)


async def trust_host_key(
    caller: Caller, name: str, host_key: str, expected_version: int | None, deps: Deps
) -> Connection:
    """The admin accepts the key "test connection" showed: it is pinned from now on."""
    _admin(caller)
    connection = await deps.connections.get(caller.office_id, name)
    if connection is None or connection.kind is not Kind.SFTP:
        raise NotFound(name)
    based_on = _based_on(connection, expected_version, name)
    accept_host_key(connection, host_key)
    return await deps.connections.save(connection, based_on)


async def get_identity(caller: Caller, deps: Deps) -> EmailIdentity | None:
    _admin(caller)
    return await deps.connections.identity(caller.office_id)


async def save_identity(
    caller: Caller, sender: str, display_name: str, deps: Deps
) -> EmailIdentity:
    _admin(caller)
    return await deps.connections.save_identity(
        EmailIdentity.build(caller.office_id, sender, display_name)
    )


# --- the ledger ----------------------------------------------------------------------------------


async def list_deliveries(
    caller: Caller,
    deps: Deps,
    *,
    client_id: str | None = None,
    document_id: str | None = None,
    states: frozenset[State] | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[Delivery]:
    query = DeliveryQuery(
        caller.office_id, client_id, document_id, states, visible_groups(caller), after, limit
    )
    return await deps.ledger.page(query)


async def get_delivery(caller: Caller, delivery_id: str, deps: Deps) -> Delivery:
    delivery = await deps.ledger.get(delivery_id)
    groups = visible_groups(caller)
    if delivery is None or delivery.office_id != caller.office_id:
        raise NotFound(delivery_id)  # another office's delivery is answered as a missing one
    if groups is not None and delivery.group_id not in groups:
        raise NotFound(delivery_id)
    return delivery


async def retry_delivery(caller: Caller, delivery_id: str, deps: Deps) -> Delivery:
    delivery = await get_delivery(caller, delivery_id, deps)
    if delivery.state is not State.FAILED:
        raise NotRetryable(delivery.state.value)
    delivery.retry(deps.clock.now())
    await deps.ledger.save(delivery)
    return delivery
