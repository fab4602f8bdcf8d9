"""The delivery service's HTTP API (for now: health, readiness and metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal_delivery.bootstrap import bootstrap
from portal_delivery.config import Settings
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping


def create_app(settings: Settings | None = None) -> FastAPI:
    service = bootstrap(settings)
    db = service.mongo[service.settings.database]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await service.mongo.close()

    return create_service_app(
        title="Delivery service",
        jwt_key=service.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": lambda: ping(db)},
    )
