"""The importer's HTTP API (behind the gateway): template, upload, report, fix rows, confirm.

uvicorn --factory portal_importer.entrypoints.http:create_app --port 8102
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from portal_importer.bootstrap import Service, bootstrap
from portal_importer.entrypoints import errors
from portal_importer.entrypoints.http_imports import router as imports_router
from portal_importer.entrypoints.http_rows import router as rows_router
from portal_importer.entrypoints.http_template import router as template_router
from portal_servicekit.app import create_service_app
from portal_servicekit.mongo import ping
from portal_servicekit.problems import PROBLEM_JSON, message


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
    )
    app.state.deps = chosen.deps
    app.state.max_upload_bytes = chosen.settings.max_upload_bytes
    errors.install(app)
    app.include_router(template_router)  # before /v1/imports/{import_id}
    app.include_router(imports_router)
    app.include_router(rows_router)
    app.add_middleware(UploadLimit, max_bytes=chosen.settings.max_upload_bytes)
    return app


class UploadLimit:
    """Refuses an upload over the limit from its Content-Length, before any byte is parsed.
    Kept until servicekit's streaming body limit lands (being written), which replaces it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"POST", "PUT"}:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes + 64 * 1024:
                response = JSONResponse(
                    {
                        "type": "https://errors.accountant-portal.be/file.too_large",
                        "status": 413,
                        "code": "file.too_large",
                        "title": message("file.too_large", "en", max_mb=self.max_bytes // 2**20),
                    },
                    status_code=413,
                    media_type=PROBLEM_JSON,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
