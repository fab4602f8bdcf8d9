"""Pre-encoded events land in the outbox exactly as Outbox.add stores envelopes (same record
shape and bounds, in order), on the real MongoDB-wire server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from portal_contracts.imports import ImportCommitted, ImportCommittedPayload
from portal_servicekit.outbox import EVENTS_PER_RECORD, Outbox, encoded
from portal_servicekit.outbox_encoded import EncodedEvent, add_encoded

pytestmark = pytest.mark.integration


async def test_encoded_events_are_stored_as_the_relay_reads_them(mongo_db: Any) -> None:
    outbox = Outbox(mongo_db)
    correlation = uuid.uuid4()
    events = [
        EncodedEvent("ImportValidated", uuid.uuid4(), "imp-1", correlation, b'{"n":%d}' % n)
        for n in range(2 * EVENTS_PER_RECORD + 1)
    ]
    await add_encoded(outbox, events, session=None)
    records = await outbox.collection.find({}).sort("_id", 1).to_list()
    assert [len(r["events"]) for r in records] == [EVENTS_PER_RECORD, EVENTS_PER_RECORD, 1]
    stored = [e for r in records for e in r["events"]]
    assert [bytes(e["body"]) for e in stored] == [e.body for e in events]
    assert stored[0]["id"] == str(events[0].event_id)
    assert stored[0]["correlation_id"] == str(correlation)
    envelope = ImportCommitted.new(
        office_id="o", payload=ImportCommittedPayload(import_id="imp-1", version=1, client_ids={})
    )
    assert set(stored[0]) == set(encoded(envelope))  # what OutboxRelay reads
    assert set(records[0]) == {"_id", "events", "at"}
