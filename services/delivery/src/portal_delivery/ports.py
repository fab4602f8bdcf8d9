"""What the delivery handlers need from the outside world."""

from __future__ import annotations

from typing import Protocol

from portal_delivery.domain.model import ClientRoute


class ClientRoutes(Protocol):
    async def get(self, office_id: str, client_id: str) -> ClientRoute | None: ...

    async def keep_newest(self, route: ClientRoute) -> bool:
        """Store ``route`` unless a route of the same or a newer version is stored; True when
        stored. Atomic: of two snapshots racing, the newer one stays."""
        ...
