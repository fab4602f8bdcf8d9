"""/v1/imports/{id}/rows/{row}: fix a row's cells or delete the row; the answer is the import
with its new report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from portal_importer.domain.commands import DeleteRow, EditRow
from portal_importer.entrypoints.http_shared import Services, Token, detail
from portal_importer.service.imports import delete_row, edit_row
from portal_servicekit.identity import CallerLanguage, CurrentCaller

router = APIRouter(prefix="/v1/imports/{import_id}/rows", tags=["rows"])


class RowChange(BaseModel):
    """New cell values of one row, by column header (any language) or field path; null clears."""

    cells: dict[str, str | None]


@router.patch("/{row}")
async def fix_row(
    import_id: str,
    row: int,
    change: RowChange,
    caller: CurrentCaller,
    language: CallerLanguage,
    token: Token,
    deps: Services,
) -> dict[str, Any]:
    command = EditRow(caller, token, import_id, row, change.cells)
    return detail(*await edit_row(command, deps), language.value)


@router.delete("/{row}")
async def remove_row(
    import_id: str,
    row: int,
    caller: CurrentCaller,
    language: CallerLanguage,
    token: Token,
    deps: Services,
) -> dict[str, Any]:
    command = DeleteRow(caller, token, import_id, row)
    return detail(*await delete_row(command, deps), language.value)
