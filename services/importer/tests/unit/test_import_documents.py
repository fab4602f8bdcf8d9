"""The import's document and a row's document come back as they were written."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_importer.adapters.documents import (
    from_document,
    row_from_document,
    row_to_document,
    to_document,
)
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import Confirmation, ImportRecord, ImportStatus, Rejection
from portal_importer.domain.report import Problem
from portal_importer.domain.validation import Availability, Holder, check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_a_record_comes_back_as_it_was_saved() -> None:
    record = ImportRecord(
        import_id="imp-1",
        office_id="office-a",
        created_by="u-1",
        created_at=NOW,
        updated_at=NOW,
        status=ImportStatus.CONFIRMED,
        version=2,
        rows_id="r2",
        revision=3,
        facts=FileFacts(
            {"user.email": "E-mail", "company.vat_number": "TVA"},
            (Problem(None, "Shoe", None, "column.duplicate"),),
            (Problem(7, None, None, "row.example_skipped"),),
        ),
        availability=Availability(
            {"c1@example.be": Holder.OFFICE, "c2@example.be": Holder.ELSEWHERE},
            {"BE0100000169": Holder.ELSEWHERE},
        ),
        rows=5000,
        errors=2,
        rejections=(Rejection(4, "user.email", "email.taken"),),
        confirmation=Confirmation(2, "c0ffee", NOW),
    )
    document = to_document(record)
    assert document["availability"]["emails"][0] == ["c1@example.be", "office"]  # no dotted keys
    assert from_document(document) == record


def test_a_row_comes_back_as_it_was_saved() -> None:
    row = check_row(3, client_row(1), offline_context(), keep_client=True)
    document = row_to_document("imp-1", "r1", row)
    assert ["company.vat_number", "BE0100.000.169"] in document["cells"]
    assert document["client"]["user"]["email"] == "client1@bureau-example.be"
    assert row_from_document(document) == row
