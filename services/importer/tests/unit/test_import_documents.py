"""The import's document: big lists packed, and documents written before packing still read."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_importer.adapters.documents import from_document, to_document
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import ImportRecord, ImportStatus, Rejection
from portal_importer.domain.validation import Availability

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _record() -> ImportRecord:
    return ImportRecord(
        import_id="imp-1",
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.PENDING,
        version=2,
        generation=1,
        revision=3,
        facts=FileFacts({"user.email": "E-mail"}),
        availability=Availability(
            frozenset(f"c{n}@example.be" for n in range(5000)), frozenset({"BE0100000169"})
        ),
        rows=5000,
        errors=5000,
        rejections=(Rejection(4, "user.email", "email.taken"),),
        rows_ref="abc:5",
    )


def test_a_record_comes_back_as_it_was_saved() -> None:
    record = _record()
    document = to_document(record)
    assert isinstance(document["availability"]["packed"], bytes)
    assert len(document["availability"]["packed"]) < 20_000  # not 5,000 values to decode
    assert from_document(document) == record


def test_a_document_written_before_packing_reads_the_same() -> None:
    record = _record()
    document = to_document(record)
    document["availability"] = {
        "emails_taken": sorted(record.availability.emails_taken),  # type: ignore[union-attr]
        "vat_numbers_taken": ["BE0100000169"],
    }
    document["rejections"] = [{"row": 4, "field": "user.email", "code": "email.taken"}]
    document["client_ids"] = {"3": "c-3", "4": "c-4"}
    del document["clients_created"]
    del document["rows_ref"]
    old = from_document(document)
    assert old.availability == record.availability
    assert old.rejections == record.rejections
    assert old.clients_created == 2
    assert old.rows_ref == ""  # its rows are found the old way
