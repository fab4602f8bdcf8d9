"""`uvicorn --factory portal_clients.entrypoints.http:create_app --port 8101`: the clients API.

The API writes clients with their events (the outbox); the worker relays them to Kafka. For a
single-process local run set CLIENTS_RELAY_IN_HTTP=true and the API relays too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal_clients.bootstrap import ClientsService, bootstrap
from portal_clients.config import Settings
from portal_clients.entrypoints import errors
from portal_clients.entrypoints.http_clients import router as clients_router
from portal_clients.entrypoints.http_office import router as office_router
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping


def create_app(
    settings: Settings | None = None, *, service: ClientsService | None = None
) -> FastAPI:
    owned = service is None
    if service is None:
        settings = settings or Settings()
        service = bootstrap(settings, with_broker=settings.relay_in_http)
    chosen = service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await chosen.prepare()
        if chosen.relay is not None and chosen.broker is not None:
            await chosen.broker.start()
            chosen.relay.start()
        try:
            yield
        finally:
            if chosen.relay is not None and chosen.broker is not None:
                await chosen.relay.stop()
                await chosen.broker.stop()
            if owned:
                await chosen.close()

    async def mongo_ready() -> None:
        await ping(chosen.db)

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
    app.state.service = chosen
    errors.register_catalogues()
    errors.install(app)
    app.include_router(clients_router)
    app.include_router(office_router)
    return app
