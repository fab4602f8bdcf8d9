"""Every fake of the delivery service, in one place (no mocks)."""

from __future__ import annotations

from portal_delivery.domain.model import ClientRoute


class FakeRoutes:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], ClientRoute] = {}

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        return self.routes.get((office_id, client_id))

    async def keep_newest(self, route: ClientRoute) -> bool:
        stored = self.routes.get((route.office_id, route.client_id))
        if not route.is_newer_than(stored):
            return False
        self.routes[(route.office_id, route.client_id)] = route
        return True
