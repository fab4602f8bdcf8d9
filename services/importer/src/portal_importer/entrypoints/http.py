"""The importer's HTTP API (behind the gateway): template, upload, report, fix rows, confirm.

uvicorn --factory portal_importer.entrypoints.http:create_app --port 8102
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from portal_contracts.identity import Caller
from portal_importer.adapters.mongo import MongoImports
from portal_importer.adapters.xlsx_package import UnreadableWorkbook
from portal_importer.adapters.xlsx_template import write_error_report, write_template
from portal_importer.bootstrap import Bootstrapped, bootstrap
from portal_importer.config import Settings
from portal_importer.domain.messages import IMPORTER_MESSAGES
from portal_importer.domain.model import ImportRecord, ImportStateError
from portal_importer.domain.report import Report
from portal_importer.service.handlers import (
    ConcurrentChange,
    Importer,
    ImportInvalid,
    ImportNotFound,
    RowNotFound,
    UnknownColumn,
)
from portal_servicekit.app import create_service_app
from portal_servicekit.identity import CallerLanguage, CurrentCaller
from portal_servicekit.problems import (
    PROBLEM_JSON,
    FieldProblem,
    ProblemError,
    message,
    register_messages,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

register_messages(
    {
        **IMPORTER_MESSAGES,
        "import.not_editable": {
            "fr": "Cet import est confirmé ou terminé : il ne peut plus être modifié.",
            "nl": "Deze import is bevestigd of afgerond: hij kan niet meer gewijzigd worden.",
            "en": "This import is confirmed or done: it can no longer be changed.",
        },
        "import.invalid": {
            "fr": "L'import contient des erreurs : corrigez ou supprimez les lignes signalées.",
            "nl": "De import bevat fouten: verbeter of verwijder de gemelde rijen.",
            "en": "The import has errors: fix or delete the rows reported.",
        },
    }
)


class RowChange(BaseModel):
    """New cell values of one row, by column header (any language) or field path; null clears."""

    cells: dict[str, str | None]


def _token(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2]


def _summary(record: ImportRecord) -> dict[str, Any]:
    return {
        "id": record.import_id,
        "status": record.status.value,
        "version": record.version,
        "rows": record.rows,
        "errors": record.errors,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "created_by": record.created_by,
        "filename": record.uploads[-1].filename if record.uploads else None,
        "uploads": [
            {
                "version": u.version,
                "filename": u.filename,
                "uploaded_at": u.uploaded_at.isoformat(),
                "rows": u.rows,
            }
            for u in record.uploads
        ],
        "clients_created": record.clients_created,
    }


def _detail(record: ImportRecord, report: Report, language: str) -> dict[str, Any]:
    return {**_summary(record), "report": report.render(language)}


class UploadLimit:
    """Refuses an upload over the limit from its Content-Length, before any byte is parsed."""

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


def _router(get: Callable[[], Bootstrapped], max_upload_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1/imports", tags=["imports"])

    def importer() -> Importer:
        return get().importer

    async def read_upload(file: UploadFile) -> bytes:
        data = await file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise ProblemError(413, "file.too_large", params={"max_mb": max_upload_bytes // 2**20})
        return data

    async def guarded(call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ImportNotFound as exc:
            raise ProblemError(404, "not_found") from exc
        except RowNotFound as exc:
            raise ProblemError(404, "not_found") from exc
        except UnreadableWorkbook as exc:
            raise ProblemError(422, exc.code, params=exc.params) from exc
        except ImportStateError as exc:
            raise ProblemError(409, exc.code) from exc
        except ConcurrentChange as exc:
            raise ProblemError(409, "precondition.failed") from exc
        except UnknownColumn as exc:
            raise ProblemError(
                422, "validation", fields=[FieldProblem(field=exc.name, code="field.unknown")]
            ) from exc

    @router.get("/template")
    async def template(
        request: Request, caller: CurrentCaller, language: CallerLanguage
    ) -> Response:
        settings = await importer().directory.settings(caller, _token(request))
        groups = sorted((settings.groups or {}).values())
        data = await asyncio.to_thread(write_template, language.value, groups)
        name = {
            "fr": "modele-import-clients",
            "nl": "importsjabloon-klanten",
            "en": "client-import-template",
        }[language.value]
        return Response(
            data,
            media_type=XLSX,
            headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
        )

    @router.post("", status_code=201)
    async def upload(
        request: Request,
        caller: CurrentCaller,
        language: CallerLanguage,
        file: Annotated[UploadFile, File()],
    ) -> dict[str, Any]:
        data = await read_upload(file)
        record, report = await guarded(
            importer().upload(caller, _token(request), file.filename or "import.xlsx", data)
        )
        return _detail(record, report, language.value)

    @router.get("")
    async def list_imports(
        caller: CurrentCaller, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> dict[str, Any]:
        return {"items": [_summary(r) for r in await importer().recent(caller, limit)]}

    @router.get("/{import_id}")
    async def get_import(
        import_id: str, caller: CurrentCaller, language: CallerLanguage
    ) -> dict[str, Any]:
        record, report = await guarded(importer().report(caller, import_id))
        return _detail(record, report, language.value)

    @router.get("/{import_id}/report.xlsx")
    async def report_workbook(
        import_id: str, caller: CurrentCaller, language: CallerLanguage
    ) -> Response:
        _, report = await guarded(importer().report(caller, import_id))
        data = await asyncio.to_thread(
            write_error_report, report.render(language.value), language.value
        )
        return Response(
            data,
            media_type=XLSX,
            headers={
                "content-disposition": f'attachment; filename="import-{import_id}-report.xlsx"'
            },
        )

    @router.patch("/{import_id}/rows/{row}")
    async def edit_row(
        import_id: str,
        row: int,
        change: RowChange,
        request: Request,
        caller: CurrentCaller,
        language: CallerLanguage,
    ) -> dict[str, Any]:
        record, report = await guarded(
            importer().edit_row(caller, _token(request), import_id, row, change.cells)
        )
        return _detail(record, report, language.value)

    @router.delete("/{import_id}/rows/{row}")
    async def delete_row(
        import_id: str, row: int, request: Request, caller: CurrentCaller, language: CallerLanguage
    ) -> dict[str, Any]:
        record, report = await guarded(
            importer().delete_row(caller, _token(request), import_id, row)
        )
        return _detail(record, report, language.value)

    @router.post("/{import_id}/versions")
    async def new_version(
        import_id: str,
        request: Request,
        caller: CurrentCaller,
        language: CallerLanguage,
        file: Annotated[UploadFile, File()],
    ) -> dict[str, Any]:
        data = await read_upload(file)
        record, report = await guarded(
            importer().new_version(
                caller, _token(request), import_id, file.filename or "import.xlsx", data
            )
        )
        return _detail(record, report, language.value)

    @router.post("/{import_id}/validate")
    async def revalidate(
        import_id: str, request: Request, caller: CurrentCaller, language: CallerLanguage
    ) -> dict[str, Any]:
        record, report = await guarded(importer().revalidate(caller, _token(request), import_id))
        return _detail(record, report, language.value)

    @router.post("/{import_id}/confirm", status_code=202)
    async def confirm(
        import_id: str, request: Request, caller: CurrentCaller, language: CallerLanguage
    ) -> Response:
        try:
            record = await guarded(importer().confirm(caller, _token(request), import_id))
        except ImportInvalid as invalid:
            body = {
                "type": "https://errors.accountant-portal.be/import.invalid",
                "title": message("import.invalid", language.value),
                "status": 422,
                "code": "import.invalid",
                "instance": request.url.path,
                "report": invalid.report.render(language.value),
            }
            return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)
        return JSONResponse(_summary(record), status_code=202)

    return router


def create_app(
    settings: Settings | None = None, bootstrapped: Bootstrapped | None = None
) -> FastAPI:
    settings = settings or Settings()
    state: dict[str, Bootstrapped] = {}
    if bootstrapped is not None:
        state["b"] = bootstrapped

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if "b" not in state:
            state["b"] = bootstrap(settings)
        repository = state["b"].repository
        if isinstance(repository, MongoImports):
            await repository.ensure_indexes()
        try:
            yield
        finally:
            mongo = state["b"].mongo
            if mongo is not None:
                await mongo.close()

    async def mongo_ready() -> None:
        database = state["b"].database if "b" in state else None
        if database is not None:
            await database.command("ping")

    app = create_service_app(
        title="Importer",
        jwt_key=settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        # A workbook of IMPORTER_MAX_UPLOAD_BYTES and its multipart framing.
        body_limits=dict.fromkeys(
            ("POST /v1/imports", "POST /v1/imports/{import_id}/versions"),
            settings.max_upload_bytes + 64 * 1024,
        ),
    )
    app.include_router(_router(lambda: state["b"], settings.max_upload_bytes))
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    return app


__all__ = ["Caller", "create_app"]
