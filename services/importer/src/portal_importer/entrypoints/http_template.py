"""/v1/imports/template: the workbook to fill in, in the caller's language, with the office's
groups and connections in its drop-downs."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from portal_importer.adapters.xlsx_template import write_template
from portal_importer.domain.commands import OfferGroups
from portal_importer.entrypoints.http_shared import XLSX, Services, Token
from portal_importer.service.imports import offer_choices
from portal_servicekit.identity import CallerLanguage, CurrentCaller

router = APIRouter(prefix="/v1/imports", tags=["template"])

NAMES = {
    "fr": "modele-import-clients",
    "nl": "importsjabloon-klanten",
    "en": "client-import-template",
}


@router.get("/template")
async def template(
    caller: CurrentCaller, language: CallerLanguage, token: Token, deps: Services
) -> Response:
    groups, connections = await offer_choices(OfferGroups(caller, token), deps)
    data = await asyncio.to_thread(write_template, language.value, groups, connections)
    disposition = f'attachment; filename="{NAMES[language.value]}.xlsx"'
    return Response(data, media_type=XLSX, headers={"content-disposition": disposition})
