"""A confirmed import becomes clients, all or none: ImportValidated chunks are collected, and once
the last one is in every row is checked again (settings or groups may have changed since the
importer checked it), its unique values are looked up, and either every client is created with
its ClientCreated and ImportCommitted, or none is and ImportRejected says which rows lost.

Safe to receive a chunk twice, in any state, after any crash: chunks are kept by their natural
key (import, version, chunk), client ids are derived from (import, version, row), and the store
commits an import once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import TypeVar

from portal_client_rules import ClientRulesError, OfficeRules, check_client
from portal_clients.domain.errors import FieldIssue, RowsRefused
from portal_clients.domain.model import Client, imported_client_id, reference_key
from portal_clients.ports import ImportChunk, ImportLine, ImportStatus
from portal_clients.service.deps import Deps
from portal_clients.service.rules import office_rules
from portal_contracts.clients import ImportOrigin, VatCheck
from portal_contracts.imports import (
    ANSWER_ROWS_PER_PART,
    ImportCommitted,
    ImportCommittedPayload,
    ImportRejected,
    ImportRejectedPayload,
    ImportValidated,
    RejectedRow,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)

# An import's first register checks are spread out, two a second: VIES is asked politely, and
# checks of clients added by hand meanwhile (due sooner) are not queued behind 10,000 others.
IMPORT_RECHECK_SPACING = timedelta(milliseconds=500)


def import_key(event: ImportValidated) -> str:
    return f"{event.payload.import_id}:{event.payload.version}"


async def import_validated(event: ImportValidated, deps: Deps) -> None:
    p = event.payload
    key = import_key(event)
    lines = [
        ImportLine(r.row_number, r.invite, r.client.model_dump(mode="json"), r.skip_vat_check)
        for r in p.rows
    ]
    chunk = ImportChunk(key, event.office_id, p.chunk_index, p.chunk_count, lines)
    if await deps.imports.receive(chunk) is not ImportStatus.COMPLETE:
        return
    started = time.perf_counter()
    clients, lost = await _clients(event, await deps.imports.lines(key), deps)
    checked = time.perf_counter()
    if not lost:
        lost = await _taken(event.office_id, clients, deps)
    looked_up = time.perf_counter()
    if not lost:
        try:
            await deps.imports.commit(key, clients, _commitment(event, clients))
            logger.info(
                "import %s: %d clients (rows read and checked %.2f s, unique values looked up"
                " %.2f s, stored with their events %.2f s)",
                key,
                len(clients),
                checked - started,
                looked_up - checked,
                time.perf_counter() - looked_up,
            )
            return
        except RowsRefused as refused:
            row_of = {c.client_id: c.origin.row_number for c in clients if c.origin}
            lost = {row_of[cid]: issue for cid, issue in refused.rows.items()}
    logger.info("import %s rejected: %d rows cannot be created", key, len(lost))
    await deps.imports.reject(key, _rejection(event, lost))


async def _clients(
    event: ImportValidated, lines: list[ImportLine], deps: Deps
) -> tuple[list[Client], dict[int, FieldIssue]]:
    """Every row checked again with the office's current rules, as a new client (in a thread:
    10,000 rows are a second of CPU the event loop must not wait for)."""
    settings, _ = await deps.settings.get(event.office_id)
    groups = await deps.groups.all(event.office_id)
    connections = await deps.connections.of(event.office_id)
    rules = office_rules(settings, groups, deps.clock.today(), connections)
    now = deps.clock.now()
    first_check = now + deps.recheck_policy.delay(1, deps.jitter.random())
    return await asyncio.to_thread(_build, event, lines, rules, now, first_check)


def _build(
    event: ImportValidated,
    lines: list[ImportLine],
    rules: OfficeRules,
    now: datetime,
    first_check: datetime,
) -> tuple[list[Client], dict[int, FieldIssue]]:
    p = event.payload
    clients: list[Client] = []
    lost: dict[int, FieldIssue] = {}
    for position, line in enumerate(lines):
        try:
            data = check_client(line.client, rules)
        except ClientRulesError as exc:
            first = exc.violations[0]
            lost[line.row_number] = FieldIssue(first.field, first.code)
            continue
        # The register is asked later, not 10,000 times now; never when the row said not to.
        skipped = line.skip_vat_check
        client = Client.register(
            client_id=imported_client_id(p.import_id, p.version, line.row_number),
            office_id=event.office_id,
            data=data,
            vat_check=VatCheck.SKIPPED if skipped else VatCheck.PENDING,
            now=now,
            invite=line.invite,
            origin=ImportOrigin(import_id=p.import_id, row_number=line.row_number),
            caused_by=event,
        )
        if not skipped:
            client.ask_register_again(first_check + IMPORT_RECHECK_SPACING * position)
        clients.append(client)
    return clients, lost


async def _taken(office_id: str, clients: list[Client], deps: Deps) -> dict[int, FieldIssue]:
    """Rows whose e-mail, company or reference is already used (elsewhere, or by another row)."""
    own = {c.client_id for c in clients}
    first: dict[tuple[str, str], int] = {}  # (rule, value) -> the first row using it
    lost: dict[int, FieldIssue] = {}
    for client in clients:
        row = client.origin.row_number if client.origin else 0
        company = client.data.company
        for rule, value in (
            ("email", client.data.user.email),
            ("vat", company.vat_number),
            ("reference", reference_key(company.internal_reference)),
        ):
            if value is None:
                continue
            if (rule, value) in first:
                lost.setdefault(row, _issue(rule, same_office=True))
            else:
                first[rule, value] = row
    values = {rule: [v for r, v in first if r == rule] for rule in ("email", "vat", "reference")}
    holders = [
        *await deps.clients.holders(values["email"], values["vat"]),
        *await deps.clients.reference_holders(office_id, values["reference"]),
    ]
    for holder in holders:
        if holder.client_id in own:
            continue  # created by an interrupted commit of this same import
        for rule, value in (
            ("email", holder.email),
            ("vat", holder.vat_number),
            (
                "reference",
                reference_key(holder.reference) if holder.office_id == office_id else None,
            ),
        ):
            taken = first.get((rule, value or ""))
            if taken is not None:
                lost.setdefault(taken, _issue(rule, same_office=holder.office_id == office_id))
    return lost


def _issue(rule: str, *, same_office: bool) -> FieldIssue:
    if rule == "email":
        return FieldIssue("user.email", "email.taken")
    if rule == "reference":
        return FieldIssue("company.internal_reference", "reference.taken")
    code = "vat.taken_in_office" if same_office else "company.on_platform"
    return FieldIssue("company.vat_number", code)


def _commitment(event: ImportValidated, clients: list[Client]) -> list[ImportCommitted]:
    p = event.payload
    ids = sorted((c.origin.row_number, c.client_id) for c in clients if c.origin is not None)
    parts = _parts(ids)
    return [
        ImportCommitted.new(
            office_id=event.office_id,
            payload=ImportCommittedPayload(
                import_id=p.import_id,
                version=p.version,
                client_ids=dict(part),
                chunk_index=index,
                chunk_count=len(parts),
            ),
            caused_by=event,
        )
        for index, part in enumerate(parts)
    ]


def _rejection(event: ImportValidated, lost: dict[int, FieldIssue]) -> list[ImportRejected]:
    p = event.payload
    rows = [RejectedRow(row_number=r, field=i.field, code=i.code) for r, i in sorted(lost.items())]
    parts = _parts(rows)
    return [
        ImportRejected.new(
            office_id=event.office_id,
            payload=ImportRejectedPayload(
                import_id=p.import_id,
                version=p.version,
                rows=part,
                chunk_index=index,
                chunk_count=len(parts),
            ),
            caused_by=event,
        )
        for index, part in enumerate(parts)
    ]


def _parts(rows: list[T]) -> list[list[T]]:
    """The answer's rows in parts small enough for one Kafka message each."""
    size = ANSWER_ROWS_PER_PART
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]
