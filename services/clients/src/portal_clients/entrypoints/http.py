"""`uvicorn --factory portal_clients.entrypoints.http:create_app --port 8101`: the clients API.

The API writes clients with their events (the outbox, in the same transaction); the worker's
relay publishes them, woken by a change stream on the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal_clients.bootstrap import Service, bootstrap
from portal_clients.entrypoints import errors
from portal_clients.entrypoints.http_clients import router as clients_router
from portal_clients.entrypoints.http_office import router as office_router
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping


def create_app(service: Service | None = None) -> FastAPI:
    """``None``: bootstrap from the environment and own the service's lifecycle."""
    owned = service is None
    chosen = service or bootstrap()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await chosen.prepare()
        try:
            yield
        finally:
            if owned:
                await chosen.close()

    async def mongo_ready() -> None:
        await ping(chosen.runtime.db)

    app = create_service_app(
        title="Clients service",
        jwt_key=chosen.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        description="Clients, groups and office settings of an accounting office.",
        # The importer's one batch: 20,000 e-mails of up to 254 characters and 20,000 VAT numbers
        # (5.5 MB); every other body is a JSON form under servicekit's default bound.
        body_limits={"POST /v1/clients/availability": 6 * 1024 * 1024},
    )
    app.state.deps = chosen.deps
    errors.register_catalogues()
    errors.install(app)
    app.include_router(clients_router)
    app.include_router(office_router)
    return app
