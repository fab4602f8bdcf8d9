"""The composition root of the delivery service: real adapters here, fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass

from portal_delivery.adapters.mongo import MongoClientRoutes
from portal_delivery.config import Settings
from portal_delivery.service.deps import Deps
from portal_servicekit.runtime import Runtime, open_runtime


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps
    routes: MongoClientRoutes

    async def prepare(self) -> None:
        """Create indexes (idempotent); run at start-up by both processes."""
        await self.routes.ensure_indexes()

    async def close(self) -> None:
        await self.runtime.close()


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    runtime = open_runtime("delivery", settings.platform, settings.database)
    routes = MongoClientRoutes(runtime.db)
    return Service(settings=settings, runtime=runtime, deps=Deps(routes=routes), routes=routes)
