"""The import's document and the rows' documents of the older layout, to and from MongoDB.

Field names may not hold dots, and column keys do ("company.vat_number"): they are stored with
":" instead (FerretDB also refuses nested arrays, so no lists of pairs). Lists that may hold
thousands of values are packed (zlib JSON): FerretDB decodes every value of a document on each
read, and a scan of the imports reads them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portal_importer.adapters import rowpack
from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.model import (
    Confirmation,
    ImportRecord,
    ImportStatus,
    Rejection,
    Upload,
)
from portal_importer.domain.report import Problem
from portal_importer.domain.validation import Availability, CheckedRow, RowProblem

Document = dict[str, Any]


def row_to_document(row: CheckedRow) -> Document:
    return {
        "row": row.row,
        "cells": _keyed(row.cells),
        "problems": [
            {"key": p.key, "code": p.code, "params": dict(p.params)} for p in row.problems
        ],
        "invite": row.invite,
        "email": row.email,
        "vat": row.vat,
        "reference": row.reference,
        "unreadable": list(row.unreadable),
    }


def row_from_document(doc: Document) -> CheckedRow:
    return CheckedRow(
        row=doc["row"],
        cells=_unkeyed(doc["cells"]),
        problems=tuple(RowProblem(p["key"], p["code"], dict(p["params"])) for p in doc["problems"]),
        invite=doc["invite"],
        email=doc.get("email"),
        vat=doc.get("vat"),
        reference=doc.get("reference"),
        unreadable=tuple(doc.get("unreadable") or ()),
    )


def _keyed(mapping: Mapping[str, str]) -> Document:
    return {key.replace(".", ":"): value for key, value in mapping.items()}


def _unkeyed(document: Mapping[str, str]) -> dict[str, str]:
    return {key.replace(":", "."): value for key, value in document.items()}


def _problem(problem: Problem) -> Document:
    return problem.to_document()


def _problem_back(doc: Document) -> Problem:
    return Problem(doc["row"], doc["column"], doc["key"], doc["code"], dict(doc["params"]))


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
        "generation": record.generation,
        "revision": record.revision,
        "headers": _keyed(record.facts.headers),
        "file_errors": [_problem(p) for p in record.facts.errors],
        "file_warnings": [_problem(p) for p in record.facts.warnings],
        "availability": None
        if record.availability is None
        else {
            "packed": rowpack.packed_json(
                [
                    sorted(record.availability.emails_taken),
                    sorted(record.availability.vat_numbers_taken),
                ]
            )
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
        "rejections": rowpack.packed_json([[r.row, r.field, r.code] for r in record.rejections]),
        "confirmation": None
        if confirmation is None
        else {
            "version": confirmation.version,
            "correlation_id": confirmation.correlation_id,
            "confirmed_at": confirmation.confirmed_at,
            "published": confirmation.published,
        },
        "published": confirmation.published if confirmation else False,
        "clients_created": record.clients_created,
        "rows_ref": record.rows_ref,
    }


def from_document(doc: Document) -> ImportRecord:
    availability = doc.get("availability")
    confirmation = doc.get("confirmation")
    return ImportRecord(
        import_id=doc["_id"],
        office_id=doc["office_id"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        status=ImportStatus(doc["status"]),
        version=doc["version"],
        generation=doc["generation"],
        revision=doc["revision"],
        facts=FileFacts(
            _unkeyed(doc["headers"]),
            tuple(_problem_back(p) for p in doc["file_errors"]),
            tuple(_problem_back(p) for p in doc["file_warnings"]),
        ),
        availability=_availability(availability),
        rows=doc["rows"],
        errors=doc["errors"],
        uploads=tuple(
            Upload(u["version"], u["filename"], _aware(u["uploaded_at"]), u["rows"])
            for u in doc["uploads"]
        ),
        rejections=_rejections(doc["rejections"]),
        confirmation=None
        if confirmation is None
        else Confirmation(
            confirmation["version"],
            confirmation["correlation_id"],
            _aware(confirmation["confirmed_at"]),
            confirmation["published"],
        ),
        clients_created=doc.get("clients_created", len(doc.get("client_ids") or ())),
        rows_ref=doc.get("rows_ref") or "",
    )


def _availability(stored: Document | None) -> Availability | None:
    if stored is None:
        return None
    if "packed" in stored:
        emails, vats = rowpack.unpacked_json(stored["packed"])
    else:  # written before packing
        emails, vats = stored["emails_taken"], stored["vat_numbers_taken"]
    return Availability(frozenset(emails), frozenset(vats))


def _rejections(stored: bytes | list[Document]) -> tuple[Rejection, ...]:
    if isinstance(stored, bytes):
        return tuple(
            Rejection(row, field, code) for row, field, code in rowpack.unpacked_json(stored)
        )
    return tuple(Rejection(r["row"], r["field"], r["code"]) for r in stored)  # before packing


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
