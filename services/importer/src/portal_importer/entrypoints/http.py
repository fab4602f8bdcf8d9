"""The importer's HTTP API (behind the gateway): template, upload, report, fix rows, confirm.

uvicorn --factory portal_importer.entrypoints.http:create_app --port 8102
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from portal_importer.bootstrap import Service, bootstrap
from portal_importer.entrypoints import errors
from portal_importer.entrypoints.http_imports import router as imports_router
from portal_importer.entrypoints.http_rows import router as rows_router
from portal_importer.entrypoints.http_template import router as template_router
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping


def create_app(service: Service | None = None) -> FastAPI:
    """``None``: bootstrap from the environment and own the service's lifecycle."""
    owned = service is None
    chosen = service or bootstrap()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await chosen.prepare()
        try:
            yield
        finally:
            if owned:
                await chosen.close()

    async def mongo_ready() -> None:
        await ping(chosen.runtime.db)

    app = create_service_app(
        title="Importer",
        jwt_key=chosen.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        # A workbook of IMPORTER_MAX_UPLOAD_BYTES and its multipart framing, bounded while it
        # streams and after the token is checked (servicekit's edge).
        body_limits=dict.fromkeys(
            ("POST /v1/imports", "POST /v1/imports/{import_id}/versions"),
            chosen.settings.max_upload_bytes + 64 * 1024,
        ),
    )
    app.state.deps = chosen.deps
    app.state.max_upload_bytes = chosen.settings.max_upload_bytes
    errors.install(app)
    app.include_router(template_router)  # before /v1/imports/{import_id}
    app.include_router(imports_router)
    app.include_router(rows_router)
    return app
