"""Rows packed for storage: a chunk of rows is three zlib-compressed blobs, not nested documents.

FerretDB (SQLite backend) decodes and re-encodes every field of a document in Go on each read and
write: 10,000 rows as nested documents (~6 MB) cost ~1 s to insert and ~1 s to read back, the
same rows as three binary fields (~1.5 MB) ~20 ms. The blobs are read separately (projection):
- ``outcomes``: per row its number, invite flag, normalised e-mail / VAT / reference, problems and
  unreadable cells — all the report and the confirmation need;
- ``cells``: the cells as typed (to fix a row, or to rebuild a client the old way);
- ``clients``: the normalised client of each valid row as ClientData JSON, one line each (JSON
  text never holds a raw newline), so publishing splices them into events as they are. They are
  trusted only under the ClientData schema they were written with (``client_schema``).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from bson import Binary

from portal_contracts.clients import ClientData
from portal_importer.domain.validation import CheckedRow, RowProblem

FORMAT = 2
_LEVEL = 1  # fastest: the rows compress ~4x anyway


@cache
def client_schema() -> str:
    """Fingerprint of the ClientData schema the stored client JSON follows."""
    schema = json.dumps(ClientData.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


def _blob(text: str) -> Binary:
    return Binary(zlib.compress(text.encode(), _LEVEL))


def _text(blob: bytes) -> str:
    return zlib.decompress(blob).decode()


def packed_json(value: object) -> Binary:
    return _blob(json.dumps(value, separators=(",", ":")))


def unpacked_json(blob: bytes) -> Any:
    return json.loads(_text(blob))


def pack(rows: Sequence[CheckedRow]) -> dict[str, Any]:
    """The fields of a chunk document holding ``rows`` (not empty)."""
    outcomes = [
        [
            r.row,
            r.invite,
            r.email,
            r.vat,
            r.reference,
            list(r.unreadable),
            [[p.key, p.code, dict(p.params)] for p in r.problems],
        ]
        for r in rows
    ]
    clients = [r.client or "" for r in rows]
    if any("\n" in c for c in clients):  # cannot happen with JSON; never store a shifted line
        raise ValueError("a client's JSON holds a raw newline")
    return {
        "format": FORMAT,
        "first_row": rows[0].row if rows else 0,
        "last_row": rows[-1].row if rows else 0,
        "count": len(rows),
        "outcomes": _blob(json.dumps(outcomes, separators=(",", ":"))),
        "cells": _blob(json.dumps([r.cells for r in rows], separators=(",", ":"))),
        "clients": _blob("\n".join(clients)),
        "client_schema": client_schema(),
    }


def unpack(document: Mapping[str, Any]) -> list[CheckedRow]:
    """The rows of a chunk document; cells and clients only when they were read."""
    outcomes = json.loads(_text(document["outcomes"]))
    cells: list[dict[str, str]] | None = None
    if "cells" in document:
        cells = json.loads(_text(document["cells"]))
    clients: list[str] | None = None
    if "clients" in document and document.get("client_schema") == client_schema():
        clients = _text(document["clients"]).split("\n") if outcomes else []
    return [
        CheckedRow(
            row,
            cells[i] if cells is not None else {},
            tuple(RowProblem(key, code, params) for key, code, params in problems)
            if problems
            else (),
            invite,
            email,
            vat,
            reference,
            tuple(unreadable) if unreadable else (),
            (clients[i] or None) if clients is not None else None,
        )
        for i, (row, invite, email, vat, reference, unreadable, problems) in enumerate(outcomes)
    ]
