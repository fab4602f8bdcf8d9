"""`uvicorn --factory portal_delivery.entrypoints.http:create_app`: the delivery service's HTTP
API (for now: health, readiness and metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal_delivery.bootstrap import Service, bootstrap
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping


def create_app(service: Service | None = None) -> FastAPI:
    owned = service is None
    chosen = service or bootstrap()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await chosen.prepare()
        yield
        if owned:
            await chosen.close()

    async def mongo_ready() -> None:
        await ping(chosen.runtime.db)

    return create_service_app(
        title="Delivery service",
        jwt_key=chosen.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
    )
