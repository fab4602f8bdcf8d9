"""Handlers of an office admin's agent keys: issue one (its token shown once), list them (never
a token), revoke one (that agent is refused from its next request on)."""

from __future__ import annotations

from portal_contracts.identity import Caller
from portal_delivery.domain.agents import AgentKey, new_key
from portal_delivery.domain.connections import Connection, Kind
from portal_delivery.service.deps import Deps
from portal_delivery.service.office import NotFound, _admin


async def _agent_connection(caller: Caller, name: str, deps: Deps) -> Connection:
    _admin(caller)
    connection = await deps.connections.get(caller.office_id, name)
    if connection is None or connection.kind is not Kind.AGENT:
        raise NotFound(name)
    return connection


async def issue_agent_key(caller: Caller, name: str, deps: Deps) -> tuple[AgentKey, str]:
    connection = await _agent_connection(caller, name, deps)
    key, token = new_key(caller.office_id, connection.name, deps.clock.now())
    await deps.agent_keys.issue(key, token)
    return key, token


async def list_agent_keys(caller: Caller, name: str, deps: Deps) -> list[AgentKey]:
    connection = await _agent_connection(caller, name, deps)
    return await deps.agent_keys.of_connection(caller.office_id, connection.name)


async def revoke_agent_key(caller: Caller, name: str, key_id: str, deps: Deps) -> None:
    connection = await _agent_connection(caller, name, deps)
    if not await deps.agent_keys.revoke(caller.office_id, connection.name, key_id):
        raise NotFound(key_id)
