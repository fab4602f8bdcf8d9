"""An import and its rows as MongoDB documents, and back.

Column keys hold dots (``company.vat_number``), which MongoDB field paths would read as nesting,
so cells and headers are stored as ``[key, text]`` pairs (e-mails hold dots too: the platform's
answer is stored as ``[value, holder]`` pairs). Dates come back aware (``connect(tz_aware=True)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import (
    Confirmation,
    ImportRecord,
    ImportStatus,
    Rejection,
    Upload,
)
from portal_importer.domain.report import Problem
from portal_importer.domain.validation import Availability, CheckedRow, Holder, RowProblem

Document = dict[str, Any]


def row_to_document(import_id: str, rows_id: str, row: CheckedRow) -> Document:
    return {
        "import_id": import_id,
        "rows_id": rows_id,
        "row": row.row,
        "cells": _pairs(row.cells),
        "problems": [
            {"key": p.key, "code": p.code, "params": dict(p.params)} for p in row.problems
        ],
        "invite": row.invite,
        "skip_vat_check": row.skip_vat_check,
        "email": row.email,
        "vat": row.vat,
        "reference": row.reference,
        "unreadable": list(row.unreadable),
        "client": row.client,
    }


def row_from_document(doc: Document) -> CheckedRow:
    return CheckedRow(
        row=doc["row"],
        cells=dict(doc.get("cells", ())),
        problems=tuple(RowProblem(p["key"], p["code"], p["params"]) for p in doc["problems"]),
        invite=doc["invite"],
        email=doc["email"],
        vat=doc["vat"],
        reference=doc["reference"],
        unreadable=tuple(doc["unreadable"]),
        client=doc.get("client"),
        skip_vat_check=bool(doc.get("skip_vat_check", False)),  # absent: stored before the column
    )


def to_document(record: ImportRecord) -> Document:
    confirmation = record.confirmation
    return {
        "_id": record.import_id,
        "office_id": record.office_id,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "status": record.status.value,
        "version": record.version,
        "rows_id": record.rows_id,
        "revision": record.revision,
        "headers": _pairs(record.facts.headers),
        "file_errors": [p.to_document() for p in record.facts.errors],
        "file_warnings": [p.to_document() for p in record.facts.warnings],
        "availability": None
        if record.availability is None
        else {
            "emails": _pairs(record.availability.emails),
            "vat_numbers": _pairs(record.availability.vat_numbers),
        },
        "rows": record.rows,
        "errors": record.errors,
        "uploads": [
            {
                "version": u.version,
                "filename": u.filename,
                "uploaded_at": u.uploaded_at,
                "rows": u.rows,
            }
            for u in record.uploads
        ],
        "rejections": [{"row": r.row, "field": r.field, "code": r.code} for r in record.rejections],
        "confirmation": None
        if confirmation is None
        else {
            "version": confirmation.version,
            "correlation_id": confirmation.correlation_id,
            "confirmed_at": confirmation.confirmed_at,
        },
        "clients_created": record.clients_created,
    }


def from_document(doc: Document) -> ImportRecord:
    availability = doc["availability"]
    confirmation = doc["confirmation"]
    return ImportRecord(
        import_id=doc["_id"],
        office_id=doc["office_id"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        status=ImportStatus(doc["status"]),
        version=doc["version"],
        rows_id=doc["rows_id"],
        revision=doc["revision"],
        facts=FileFacts(
            dict(doc["headers"]),
            tuple(Problem.from_document(p) for p in doc["file_errors"]),
            tuple(Problem.from_document(p) for p in doc["file_warnings"]),
        ),
        availability=None
        if availability is None
        else Availability(
            {value: Holder(held) for value, held in availability["emails"]},
            {value: Holder(held) for value, held in availability["vat_numbers"]},
        ),
        rows=doc["rows"],
        errors=doc["errors"],
        uploads=tuple(
            Upload(u["version"], u["filename"], u["uploaded_at"], u["rows"]) for u in doc["uploads"]
        ),
        rejections=tuple(Rejection(r["row"], r["field"], r["code"]) for r in doc["rejections"]),
        confirmation=None
        if confirmation is None
        else Confirmation(
            confirmation["version"],
            confirmation["correlation_id"],
            confirmation["confirmed_at"],
        ),
        clients_created=doc["clients_created"],
    )


def _pairs(mapping: Mapping[str, str]) -> list[list[str]]:
    return [[key, str(value)] for key, value in mapping.items()]
