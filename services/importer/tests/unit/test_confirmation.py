"""An import's life and its ImportValidated chunks, without I/O."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from portal_contracts.clients import ClientData
from portal_contracts.imports import MAX_CHUNK_BYTES, ImportValidated
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.chunks import build_chunks, chunk_event_id, encode_rows, row_json
from portal_importer.domain.model import ImportRecord, ImportStateError, ImportStatus, Rejection
from portal_importer.domain.validation import Availability, CheckedRow, check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _record(rows: int = 2, errors: int = 0) -> ImportRecord:
    return ImportRecord(
        import_id="imp-1",
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.PENDING,
        version=1,
        rows_id="r1",
        revision=0,
        facts=FileFacts({"user.email": "E-mail"}),
        availability=Availability(),
        rows=rows,
        errors=errors,
    )


def _json(rows: list[CheckedRow]) -> list[bytes]:
    return [text for _, text in encode_rows(rows, NOW.date()).rows]


def test_only_a_valid_pending_import_can_be_confirmed() -> None:
    with pytest.raises(ImportStateError, match=r"import\.invalid"):
        _record(errors=1).confirmed(NOW, str(uuid.uuid4()))
    with pytest.raises(ImportStateError, match=r"import\.invalid"):
        _record(rows=0).confirmed(NOW, str(uuid.uuid4()))
    confirmed = _record().confirmed(NOW, str(uuid.uuid4()))
    assert confirmed.status is ImportStatus.CONFIRMED
    with pytest.raises(ImportStateError, match=r"import\.not_editable"):
        confirmed.confirmed(NOW, str(uuid.uuid4()))
    with pytest.raises(ImportStateError):
        confirmed.edited(NOW, rows=1, errors=0, availability=None)


def test_answers_about_another_version_or_twice_change_nothing() -> None:
    confirmed = _record().confirmed(NOW, str(uuid.uuid4()))
    assert confirmed.committed(2, {3: "c"}, NOW) is None
    done = confirmed.committed(1, {3: "c-3", 4: "c-4"}, NOW)
    assert done is not None
    assert done.status is ImportStatus.DONE
    assert done.committed(1, {3: "c-3"}, NOW) is None
    assert done.rejected(1, [Rejection(3, "user.email", "email.taken")], NOW) is None


def test_a_rejection_puts_it_back_with_the_rows_flagged_until_fixed() -> None:
    confirmed = _record().confirmed(NOW, str(uuid.uuid4()))
    back = confirmed.rejected(1, [Rejection(4, "user.email", "email.taken")], NOW)
    assert back is not None
    assert back.status is ImportStatus.PENDING
    assert [(p.row, p.column, p.code) for p in back.rejection_problems()] == [
        (4, "E-mail", "email.taken")
    ]
    with pytest.raises(ImportStateError):
        back.confirmed(NOW, str(uuid.uuid4()))
    fixed = back.edited(NOW, rows=2, errors=0, availability=Availability(), drop_rejections_of=[4])
    assert fixed.version == 2
    assert fixed.confirmed(NOW, str(uuid.uuid4())).confirmation.version == 2  # type: ignore[union-attr]


def test_chunks_stay_under_the_message_limit_with_deterministic_ids() -> None:
    rows = [
        check_row(n + 2, client_row(n), offline_context(), keep_client=True) for n in range(1, 401)
    ]
    record = _record(rows=400).confirmed(NOW, str(uuid.uuid4()))
    encoded = _json(rows)
    chunks = build_chunks(record, encoded, max_bytes=64 * 1024)
    assert len(chunks) > 3
    assert all(len(c.body) <= 64 * 1024 for c in chunks)
    events = [ImportValidated.model_validate_json(c.body) for c in chunks]  # the contract holds
    assert [r.row_number for e in events for r in e.payload.rows] == list(range(3, 403))
    assert {e.payload.chunk_count for e in events} == {len(events)}
    assert {e.payload.row_count for e in events} == {400}
    assert [e.event_id for e in events] == [
        chunk_event_id("imp-1", 1, i) for i in range(len(events))
    ]
    assert [c.event_id for c in chunks] == [e.event_id for e in events]
    again = build_chunks(record, _json(rows), max_bytes=64 * 1024)
    assert [c.body for c in again] == [c.body for c in chunks]  # built again: the same events
    assert len(build_chunks(record, encoded)[0].body) <= MAX_CHUNK_BYTES


def test_a_row_kept_without_its_client_is_normalised_again_to_the_same_json() -> None:
    kept = [check_row(n + 2, client_row(n), offline_context(), keep_client=True) for n in (1, 2)]
    bare = [replace(r, client=None) for r in kept]
    stale = [replace(r, client={"company": "a contract ago"}) for r in kept]
    assert [ClientData.model_validate(r.client) for r in kept]  # the kept client fits
    assert [row_json(r, NOW.date()) for r in bare] == [row_json(r, NOW.date()) for r in kept]
    assert [row_json(r, NOW.date()) for r in stale] == [row_json(r, NOW.date()) for r in kept]
    record = _record().confirmed(NOW, str(uuid.uuid4()))
    event = ImportValidated.model_validate_json(build_chunks(record, _json(bare))[0].body)
    assert event.payload.rows[0].client.user.email == "client1@bureau-example.be"
    assert event.payload.rows[1].invite is False


def test_a_row_the_rules_now_refuse_is_told_not_sent() -> None:
    row = check_row(3, client_row(1), offline_context(), keep_client=True)
    broken = replace(row, cells={**row.cells, "user.email": "plus une adresse"}, client=None)
    encoded = encode_rows([row, broken], NOW.date())
    assert len(encoded.rows) == 1
    assert [(r.row, r.field, r.code) for r in encoded.refused] == [
        (3, "user.email", "email.syntax")
    ]
