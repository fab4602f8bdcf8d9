"""Confirmed imports go out as ImportValidated chunks; the clients service answers with
ImportCommitted or ImportRejected.

The outbox: confirming writes only the import's state (one document write, conditional on its
revision), then drops a hint in a tiny collection (``announce``). The relay polls the hints every
``poll_interval_s`` (cheap: FerretDB scans a collection of a few documents) and, as a safety net
for a hint lost in a crash, scans the imports for confirmed-but-unpublished ones at start and every
``sweep_interval_s``. It rebuilds the chunks from the stored rows — deterministically, event ids
included (uuid5 of import, version and chunk) — publishes them and marks the import published. A
crash in between republishes the very same events, which the clients service absorbs by event id.
The events are not stored in the document itself because a 100,000-row import is tens of MB of
events, over the 16 MB document cap.

Each chunk is written as JSON directly: the normalised clients were stored as ClientData JSON when
the rows were checked, and are spliced in as they are (re-running the rules and re-serialising
10,000 clients through pydantic cost ~1 s). The size limit is thus checked on the very bytes sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from portal_client_rules import ClientRulesError, OfficeRules
from portal_contracts.imports import (
    MAX_CHUNK_BYTES,
    ImportValidated,
    ImportValidatedPayload,
)
from portal_contracts.values import TransferMethod
from portal_importer.domain.model import ImportRecord, Rejection
from portal_importer.domain.validation import CheckedRow, RowContext, client_data

logger = logging.getLogger(__name__)

EVENT_NAMESPACE = uuid.UUID("6f0b7c1e-4a55-4b8e-9a43-2d1c9e0f5a10")
_ROWS_SLOT = b'"rows":[]'


class UnpublishableRows(Exception):
    """Rows whose client cannot be built any more (stored without it, and the rules now refuse
    them): the import cannot go out as it is."""

    def __init__(self, rejections: Sequence[Rejection]) -> None:
        super().__init__(f"{len(rejections)} problem(s)")
        self.rejections = list(rejections)


def chunk_event_id(import_id: str, version: int, chunk: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{import_id}:{version}:{chunk}")


@dataclass(frozen=True)
class Chunk:
    """One ImportValidated event, serialised."""

    event_id: uuid.UUID
    correlation_id: uuid.UUID
    key: bytes  # the import id: one partition, chunks in order
    body: bytes  # the event as JSON, at most MAX_CHUNK_BYTES


def row_json(record: ImportRecord, row: CheckedRow) -> str:
    """An ImportRow as JSON. The client is the one stored when the row was checked; a row stored
    without it (an older import, or another ClientData schema) is normalised again, which does
    not depend on the office's rules, so permissive rules give the same data."""
    client = row.client
    if client is None:
        confirmed_on = (
            record.confirmation.confirmed_at if record.confirmation else record.updated_at
        ).date()
        context = RowContext(OfficeRules(frozenset(TransferMethod), None, confirmed_on))
        client = client_data(row, context).model_dump_json()
    invite = "true" if row.invite else "false"
    return f'{{"row_number":{row.row},"invite":{invite},"client":{client}}}'


def build_chunks(
    record: ImportRecord, rows: Sequence[CheckedRow], max_bytes: int = MAX_CHUNK_BYTES
) -> list[Chunk]:
    """The ImportValidated events of a confirmed import, none over ``max_bytes``."""
    assert record.confirmation is not None  # noqa: S101 - only confirmed imports are published
    correlation = uuid.UUID(record.confirmation.correlation_id)
    encoded: list[bytes] = []
    refused: list[Rejection] = []
    for row in sorted(rows, key=lambda r: r.row):
        try:
            encoded.append(row_json(record, row).encode())
        except ClientRulesError as error:
            refused += [Rejection(row.row, v.field, v.code) for v in error.violations]
    if refused:
        raise UnpublishableRows(refused)

    base = ImportValidated.new(
        office_id=record.office_id,
        payload=ImportValidatedPayload(
            import_id=record.import_id,
            version=record.version,
            chunk_index=0,
            chunk_count=1,
            row_count=max(1, len(encoded)),
            rows=[],
        ),
        correlation_id=correlation,
    )

    def envelope(index: int, count: int) -> bytes:
        payload = base.payload.model_copy(update={"chunk_index": index, "chunk_count": count})
        event = base.model_copy(
            update={
                "event_id": chunk_event_id(record.import_id, record.version, index),
                "payload": payload,
            }
        )
        text = event.model_dump_json().encode()
        if text.count(_ROWS_SLOT) != 1:
            raise ValueError("cannot place the rows in the ImportValidated envelope")
        return text

    # The envelope without rows, with the widest chunk numbers it may carry: the rest is for rows.
    budget = max_bytes - len(envelope(len(encoded), len(encoded)))
    groups: list[list[bytes]] = [[]]
    size = 0
    for text in encoded:
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
        chunks.append(
            Chunk(
                chunk_event_id(record.import_id, record.version, index),
                correlation,
                record.import_id.encode(),
                body,
            )
        )
    return chunks
