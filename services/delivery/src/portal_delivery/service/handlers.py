"""Handlers of the delivery service."""

from __future__ import annotations

from portal_contracts.clients import ClientSnapshot
from portal_delivery.domain.model import ClientRoute
from portal_delivery.ports import ClientRoutes


async def remember_client_route(
    office_id: str, snapshot: ClientSnapshot, routes: ClientRoutes
) -> bool:
    """Keep the newest integration settings of a client; an older replayed snapshot is ignored."""
    route = ClientRoute.from_snapshot(office_id, snapshot)
    if not route.is_newer_than(await routes.get(office_id, snapshot.client_id)):
        return False
    await routes.save(route)
    return True
