"""/v1/imports: upload, list, read (report as JSON or as a workbook), new version, check again,
confirm."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from portal_contracts.filenames import safe_filename
from portal_importer.adapters.xlsx_template import write_error_report
from portal_importer.domain.commands import (
    Confirm,
    ListImports,
    NewVersion,
    Revalidate,
    ShowImport,
    Upload,
)
from portal_importer.entrypoints.http_shared import (
    XLSX,
    Services,
    Token,
    detail,
    read_upload,
    summary,
)
from portal_importer.service.confirmation import confirm
from portal_importer.service.imports import (
    list_imports,
    new_version,
    revalidate,
    show_import,
    upload,
)
from portal_servicekit.identity import CallerLanguage, CurrentCaller

router = APIRouter(prefix="/v1/imports", tags=["imports"])
Workbook = Annotated[UploadFile, File()]


def _filename(file: UploadFile) -> str:
    """The name as the platform keeps every uploaded one: no folders, no control characters."""
    return safe_filename(file.filename, default="import.xlsx")


@router.post("", status_code=201)
async def upload_file(
    request: Request,
    file: Workbook,
    caller: CurrentCaller,
    language: CallerLanguage,
    token: Token,
    deps: Services,
) -> dict[str, Any]:
    data = await read_upload(request, file)
    command = Upload(caller, token, _filename(file), data)
    return detail(*await upload(command, deps), language.value)


@router.get("")
async def list_recent(
    caller: CurrentCaller, deps: Services, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    return {"items": [summary(r) for r in await list_imports(ListImports(caller, limit), deps)]}


@router.get("/{import_id}")
async def read_import(
    import_id: str, caller: CurrentCaller, language: CallerLanguage, deps: Services
) -> dict[str, Any]:
    return detail(*await show_import(ShowImport(caller, import_id), deps), language.value)


@router.get("/{import_id}/report.xlsx")
async def report_workbook(
    import_id: str, caller: CurrentCaller, language: CallerLanguage, deps: Services
) -> Response:
    _, report = await show_import(ShowImport(caller, import_id), deps)
    rendered = report.render(language.value)
    data = await asyncio.to_thread(write_error_report, rendered, language.value)
    disposition = f'attachment; filename="import-{import_id}-report.xlsx"'
    return Response(data, media_type=XLSX, headers={"content-disposition": disposition})


@router.post("/{import_id}/versions")
async def upload_version(
    import_id: str,
    request: Request,
    file: Workbook,
    caller: CurrentCaller,
    language: CallerLanguage,
    token: Token,
    deps: Services,
) -> dict[str, Any]:
    data = await read_upload(request, file)
    command = NewVersion(caller, token, import_id, _filename(file), data)
    return detail(*await new_version(command, deps), language.value)


@router.post("/{import_id}/validate")
async def check_again(
    import_id: str, caller: CurrentCaller, language: CallerLanguage, token: Token, deps: Services
) -> dict[str, Any]:
    command = Revalidate(caller, token, import_id)
    return detail(*await revalidate(command, deps), language.value)


@router.post("/{import_id}/confirm", status_code=202)
async def confirm_import(
    import_id: str, caller: CurrentCaller, token: Token, deps: Services
) -> JSONResponse:
    record = await confirm(Confirm(caller, token, import_id), deps)
    return JSONResponse(summary(record), status_code=202)
