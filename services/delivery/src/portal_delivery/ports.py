"""What the delivery handlers need from the outside world."""

from __future__ import annotations

from typing import Protocol

from portal_delivery.domain.model import ClientRoute


class ClientRoutes(Protocol):
    async def get(self, office_id: str, client_id: str) -> ClientRoute | None: ...

    async def save(self, route: ClientRoute) -> None: ...
