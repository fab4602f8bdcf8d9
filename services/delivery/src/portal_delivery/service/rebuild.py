"""Rebuilding the clients' read model (``client_routes``) from the compacted ClientState topic.

Each state goes through the live consumers' own handler (:func:`remember_client_route`): kept
only when its version is newer than the stored one (one conditional upsert), then the documents
that waited for the client are planned. So the rebuild may run beside the planner, twice, or on
a read model that is partly there: an older state never replaces a newer copy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from portal_contracts.clients import ClientState
from portal_delivery.service.deps import Deps
from portal_delivery.service.planning import remember_client_route

CONCURRENCY = 16  # clients remembered at once (each: an upsert and two indexed reads)


async def remember_client_states(states: Sequence[ClientState], deps: Deps) -> int:
    """Remember a batch of states; of one client's several (a segment not compacted yet), only
    the newest is written. Returns how many were stored (newer than the copy)."""
    newest: dict[tuple[str, str], ClientState] = {}
    for state in states:
        key = (state.office_id, state.payload.client.client_id)
        held = newest.get(key)
        if held is None or held.payload.client.version < state.payload.client.version:
            newest[key] = state
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(state: ClientState) -> bool:
        async with slots:
            return await remember_client_route(state.office_id, state.payload.client, deps)

    return sum(await asyncio.gather(*(one(s) for s in newest.values())))
