"""A confirmed import as ImportValidated chunks, none over ``MAX_CHUNK_BYTES`` (Kafka's message
limit with room to spare), with deterministic event ids: the same import, version and rows give
the very same events, so a chunk queued twice (a resumed confirmation) is absorbed by event id.

Each row is serialised once (:func:`row_json`) and the chunks are joined from those bytes into an
envelope serialised once, so the size limit is checked on the very bytes sent and a 100,000-row
import (~66 MB of events) is never held as pydantic objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError

from portal_client_rules import ClientRulesError, OfficeRules
from portal_contracts.clients import ClientData
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportRow,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.values import TransferMethod
from portal_importer.domain.model import ImportRecord, Rejection
from portal_importer.domain.validation import CheckedRow, RowContext, client_data

EVENT_NAMESPACE = uuid.UUID("6f0b7c1e-4a55-4b8e-9a43-2d1c9e0f5a10")
_ROWS_SLOT = b'"rows":[]'


def chunk_event_id(import_id: str, version: int, chunk: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{import_id}:{version}:{chunk}")


@dataclass(frozen=True)
class Chunk:
    """One ImportValidated event, serialised."""

    event_id: uuid.UUID
    correlation_id: uuid.UUID
    key: str  # the import id: one partition, chunks in order
    body: bytes  # the event as JSON, at most MAX_CHUNK_BYTES


class StaleClient(Exception):
    """The row's kept client no longer fits the contract, and its cells were not read."""


@dataclass
class EncodedRows:
    """Rows of a confirmed import as (row number, ImportRow JSON); the rows whose client cannot
    be built; the rows to read again with their cells (``StaleClient``)."""

    rows: list[tuple[int, bytes]] = field(default_factory=list)
    refused: list[Rejection] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)

    def add(self, other: EncodedRows) -> None:
        self.rows += other.rows
        self.refused += other.refused
        self.stale += other.stale


def row_json(row: CheckedRow, confirmed_on: date) -> bytes:
    """An ImportRow as JSON. The client is the one kept when the row was checked; one kept under
    an older ClientData (a contract changed meanwhile) is normalised again from the cells, which
    does not depend on the office's rules, so permissive rules give the same data."""
    try:
        client = ClientData.model_validate(row.client) if row.client is not None else None
    except ValidationError:
        client = None
    if client is None:
        if not row.cells:
            raise StaleClient(row.row)
        rules = OfficeRules(frozenset(TransferMethod), None, confirmed_on)
        client = client_data(row, RowContext(rules))  # raises ClientRulesError
    return (
        ImportRow(
            row_number=row.row, invite=row.invite, client=client, skip_vat_check=row.skip_vat_check
        )
        .model_dump_json()
        .encode()
    )


def encode_rows(rows: Iterable[CheckedRow], confirmed_on: date) -> EncodedRows:
    encoded = EncodedRows()
    for row in rows:
        try:
            encoded.rows.append((row.row, row_json(row, confirmed_on)))
        except StaleClient:
            encoded.stale.append(row.row)
        except ClientRulesError as error:
            encoded.refused += [Rejection(row.row, v.field, v.code) for v in error.violations]
    return encoded


def build_chunks(
    record: ImportRecord, rows: Sequence[bytes], max_bytes: int = MAX_CHUNK_BYTES
) -> list[Chunk]:
    """The ImportValidated events of a confirmed import, from its rows' JSON in row order."""
    assert record.confirmation is not None  # noqa: S101 - only a confirmed import goes out
    correlation = uuid.UUID(record.confirmation.correlation_id)
    base = ImportValidated.new(
        office_id=record.office_id,
        payload=ImportValidatedPayload(
            import_id=record.import_id,
            version=record.version,
            chunk_index=0,
            chunk_count=1,
            row_count=max(1, len(rows)),
            rows=[],
        ),
        correlation_id=correlation,
    )
    confirmed_at = record.confirmation.confirmed_at

    def envelope(index: int, count: int) -> bytes:
        payload = base.payload.model_copy(update={"chunk_index": index, "chunk_count": count})
        event_id = chunk_event_id(record.import_id, record.version, index)
        event = base.model_copy(
            update={"event_id": event_id, "occurred_at": confirmed_at, "payload": payload}
        )
        body = event.model_dump_json().encode()
        if body.count(_ROWS_SLOT) != 1:
            raise ValueError("cannot place the rows in the ImportValidated envelope")
        return body

    # The envelope without rows, with the widest chunk numbers it may carry: the rest is for rows.
    budget = max_bytes - len(envelope(len(rows), len(rows)))
    groups: list[list[bytes]] = [[]]
    size = 0
    for text in rows:
        if groups[-1] and size + len(text) + 1 > budget:
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += len(text) + 1
    chunks = []
    for index, group in enumerate(groups):
        body = envelope(index, len(groups)).replace(
            _ROWS_SLOT, b'"rows":[' + b",".join(group) + b"]"
        )
        if len(body) > max_bytes:
            raise ValueError(f"one row alone is over {max_bytes} bytes")
        event_id = chunk_event_id(record.import_id, record.version, index)
        chunks.append(Chunk(event_id, correlation, record.import_id, body))
    return chunks
