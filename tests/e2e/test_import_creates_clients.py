"""An accountant imports 500 clients from the downloaded template: the importer validates them,
the clients service creates all of them, and 500 ClientCreated are on the real broker."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from portal_contracts.clients import ClientCreated
from portal_importer.domain.columns import HEADERS
from portal_importer.samples import client_row
from tests.e2e.conftest import Stack, bearer, poll, read_events

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFICE = "office-e2e"


def fill(template: bytes, rows: list[dict[str, str]]) -> bytes:
    """Type rows into the downloaded template, under its header, as an accountant would."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    # Find each column by its header, as a person reading the sheet would.
    column_of = {}
    for cell in sheet[1]:
        column = HEADERS.find(str(cell.value or ""))
        if column is not None:
            column_of[column.key] = cell.column
    for offset, row in enumerate(rows):
        for key, value in row.items():
            cell = sheet.cell(row=3 + offset, column=column_of[key])
            cell.number_format = "@"
            cell.value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def count_clients(http: httpx.AsyncClient, stack: Stack) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (
            await http.get(
                stack.url("clients") + "/v1/clients", params=params, headers=bearer(OFFICE)
            )
        ).json()
        total += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return total


async def test_template_round_trip_500_clients(
    stack: Stack, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    stack.start_api("clients")
    stack.start_worker("clients")
    stack.env["IMPORTER_CLIENTS_URL"] = stack.url("clients")
    stack.start_api("importer")
    stack.start_worker("importer")
    await stack.wait_healthy("clients")
    await stack.wait_healthy("importer")

    template = await http.get(
        stack.url("importer") + "/v1/imports/template",
        params={"lang": "fr"},
        headers=bearer(OFFICE),
    )
    assert template.status_code == 200, template.text
    rows = [client_row(n) for n in range(1, 501)]
    uploaded = await http.post(
        stack.url("importer") + "/v1/imports",
        headers=bearer(OFFICE),
        files={"file": ("clients.xlsx", fill(template.content, rows), XLSX)},
    )
    assert uploaded.status_code == 201, uploaded.text
    report = uploaded.json()["report"]
    assert report["valid"] is True, report["errors"][:5]
    assert report["rows"] == 500

    import_url = stack.url("importer") + f"/v1/imports/{uploaded.json()['id']}"
    confirmed = await http.post(import_url + "/confirm", headers=bearer(OFFICE))
    assert confirmed.status_code == 202, confirmed.text

    async def done() -> bool:
        return (await http.get(import_url, headers=bearer(OFFICE))).json()["status"] == "done"

    await poll(done, timeout_s=120, what="ImportCommitted to mark the import done", stack=stack)
    assert await count_clients(http, stack) == 500

    events = await read_events(kafka_bootstrap, stack.topics.of(ClientCreated), at_least=500)
    created = [ClientCreated.model_validate(e) for e in events]
    assert len({e.payload.client.client_id for e in created}) == 500
    assert len({e.event_id for e in created}) == len(created) == 500
    assert sum(e.payload.invite for e in created) == 250  # odd rows said "invite right away"
    assert {e.office_id for e in created} == {OFFICE}
