"""Handlers for what happens elsewhere: invitations move a client's status, the register answers a
pending VAT check, and a confirmed import becomes clients (all or none)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from portal_client_rules import ClientRulesError, check_client
from portal_clients.domain.model import Client, imported_client_id
from portal_clients.domain.vat import RegisterVerdict
from portal_clients.ports import PendingCheck
from portal_clients.service.deps import Deps
from portal_clients.service.rules import office_rules
from portal_contracts.clients import ClientActivated, ClientInvited, ImportOrigin, VatCheck
from portal_contracts.imports import (
    ANSWER_ROWS_PER_PART,
    ImportCommitted,
    ImportCommittedPayload,
    ImportRejected,
    ImportRejectedPayload,
    ImportRow,
    ImportValidated,
    RejectedRow,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

IMPORT_RECHECK_SPACING = timedelta(milliseconds=500)  # two register checks a second per import


async def client_invited(event: ClientInvited, deps: Deps) -> None:
    async with deps.clients.edit(event.payload.client_id) as client:
        if client is None or client.office_id != event.office_id:
            logger.warning("ClientInvited for unknown client %s", event.payload.client_id)
            return
        client.mark_invited(deps.clock.now(), caused_by=event)


async def client_activated(event: ClientActivated, deps: Deps) -> None:
    async with deps.clients.edit(event.payload.client_id) as client:
        if client is None or client.office_id != event.office_id:
            logger.warning("ClientActivated for unknown client %s", event.payload.client_id)
            return
        client.mark_activated(event.payload.by, deps.clock.now(), caused_by=event)


async def recheck_pending_vat(deps: Deps, limit: int = 50) -> int:
    """Ask the register again about checks that are due; returns how many got an answer."""
    answered = 0
    for check in await deps.rechecks.due(deps.clock.now(), limit):
        if check.import_ref:
            state = await deps.imports.state(check.import_ref)
            if state in {None, "rejected"}:
                await deps.rechecks.drop(check.client_id)  # its client was never created
                continue
            if state != "committed":
                wait = deps.recheck_policy.delay(1, deps.jitter.random())
                await deps.rechecks.schedule(replace(check, due_at=deps.clock.now() + wait))
                continue
        answer = await deps.register.check(check.vat_number)
        if answer.verdict is RegisterVerdict.UNAVAILABLE:
            attempts = check.attempts + 1
            delay = deps.recheck_policy.delay(attempts + 1, deps.jitter.random())
            await deps.rechecks.schedule(
                replace(check, attempts=attempts, due_at=deps.clock.now() + delay)
            )
            continue
        async with deps.clients.edit(check.client_id) as client:
            if client is not None and client.data.company.vat_number == check.vat_number:
                client.record_vat_check(answer.as_check(), deps.clock.now())
        await deps.rechecks.drop(check.client_id)
        answered += 1
    return answered


async def import_validated(event: ImportValidated, deps: Deps) -> None:
    """One chunk of a confirmed import. Safe to receive twice, in any state, after any crash."""
    p = event.payload
    key = f"{p.import_id}:{p.version}"
    record = await deps.imports.begin(key, event.office_id, p.chunk_count)
    if record.state != "receiving":
        return  # already committed or rejected: its answer is (being) relayed
    if p.chunk_index not in record.chunks:
        created, lost = await _insert_rows(key, event, p.rows, deps)
        await deps.imports.record_chunk(key, p.chunk_index, lost, created)
        record.chunks.add(p.chunk_index)
        record.lost.extend(lost)
        record.client_ids.update(created)
    if len(record.chunks) < p.chunk_count:
        return
    if record.lost:
        await deps.imports.reject(key, _rejection(event, record.lost))
        return
    await deps.imports.commit(key, _commitment(event, record.client_ids))


def _rejection(event: ImportValidated, lost: list[RejectedRow]) -> list[ImportRejected]:
    p = event.payload
    parts = _parts(sorted(lost, key=lambda r: r.row_number))
    return [
        ImportRejected.new(
            office_id=event.office_id,
            payload=ImportRejectedPayload(
                import_id=p.import_id,
                version=p.version,
                rows=rows,
                chunk_index=index,
                chunk_count=len(parts),
            ),
            caused_by=event,
        )
        for index, rows in enumerate(parts)
    ]


def _commitment(event: ImportValidated, client_ids: dict[int, str]) -> list[ImportCommitted]:
    p = event.payload
    parts = _parts(sorted(client_ids.items()))
    return [
        ImportCommitted.new(
            office_id=event.office_id,
            payload=ImportCommittedPayload(
                import_id=p.import_id,
                version=p.version,
                client_ids=dict(ids),
                chunk_index=index,
                chunk_count=len(parts),
            ),
            caused_by=event,
        )
        for index, ids in enumerate(parts)
    ]


def _parts(rows: list[T]) -> list[list[T]]:
    """The answer's rows in parts small enough for one Kafka message each."""
    size = ANSWER_ROWS_PER_PART
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


async def _insert_rows(
    key: str, event: ImportValidated, rows: list[ImportRow], deps: Deps
) -> tuple[dict[int, str], list[RejectedRow]]:
    """Insert a chunk's clients hidden; returns (row -> client id) created and rows refused."""
    p = event.payload
    settings, _ = await deps.settings.get(event.office_id)
    rules = office_rules(settings, await deps.groups.all(event.office_id), deps.clock.today())
    now = deps.clock.now()
    lost: list[RejectedRow] = []
    clients: list[Client] = []
    for row in rows:
        try:
            # The importer checked the row with the same rules; checked again because settings
            # or groups may have changed since.
            data = check_client(row.client.model_dump(mode="json"), rules)
        except ClientRulesError as exc:
            first = exc.violations[0]
            lost.append(RejectedRow(row_number=row.row_number, field=first.field, code=first.code))
            continue
        clients.append(
            Client.register(
                client_id=imported_client_id(p.import_id, p.version, row.row_number),
                office_id=event.office_id,
                data=data,
                vat_check=VatCheck.PENDING,  # the register is asked later, not 10,000 times now
                now=now,
                invite=row.invite,
                origin=ImportOrigin(import_id=p.import_id, row_number=row.row_number),
                caused_by=event,
            )
        )
    row_of = {c.client_id: c.origin.row_number for c in clients if c.origin is not None}
    refused = {
        cid: (field, code)
        for cid, field, code in await deps.imports.insert_hidden(key, p.chunk_index, clients)
    }
    lost.extend(
        RejectedRow(row_number=row_of[cid], field=field, code=code)
        for cid, (field, code) in refused.items()
    )
    created = {row_of[c.client_id]: c.client_id for c in clients if c.client_id not in refused}
    first_due = now + deps.recheck_policy.delay(1, deps.jitter.random())
    await deps.rechecks.schedule_many(
        [
            PendingCheck(
                c.client_id,
                c.data.company.vat_number,
                0,
                # Spread: each answer rewrites a client, which FerretDB pays with a scan of the
                # collection; 10,000 at once would hold it for many minutes (and VIES too).
                first_due + IMPORT_RECHECK_SPACING * row_of[c.client_id],
                import_ref=key,
            )
            for c in clients
            if c.client_id not in refused
        ]
    )
    return created, lost
