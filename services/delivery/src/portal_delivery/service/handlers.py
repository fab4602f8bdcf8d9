"""Handlers of the delivery service, listed in ``HANDLERS``."""

from __future__ import annotations

from portal_contracts.clients import ClientSnapshot
from portal_delivery.domain.model import ClientRoute
from portal_delivery.service.deps import Deps


async def remember_client_route(office_id: str, snapshot: ClientSnapshot, deps: Deps) -> bool:
    """Keep the newest integration settings of a client; an older or replayed snapshot changes
    nothing (decided atomically by the store)."""
    return await deps.routes.keep_newest(ClientRoute.from_snapshot(office_id, snapshot))


HANDLERS = {
    ClientSnapshot: remember_client_route,
}
