"""Building a service's FastAPI app the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from portal_servicekit.health import ReadinessCheck
from portal_servicekit.health import router as health_router
from portal_servicekit.logs import configure_logging
from portal_servicekit.problems import install_problem_handlers

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    *,
    title: str,
    jwt_key: str,
    lifespan: Lifespan | None = None,
    readiness_checks: dict[str, ReadinessCheck] | None = None,
    version: str = "1.0.0",
    **kwargs: Any,
) -> FastAPI:
    """A FastAPI app with problem+json errors, `/healthz`, `/readyz`, `/metrics` and the JWT key."""
    configure_logging()
    app = FastAPI(title=title, version=version, lifespan=lifespan, **kwargs)
    app.state.jwt_key = jwt_key
    app.state.readiness_checks = dict(readiness_checks or {})
    install_problem_handlers(app)
    app.include_router(health_router)
    return app
