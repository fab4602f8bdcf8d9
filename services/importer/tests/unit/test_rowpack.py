"""Rows packed into a chunk document and back."""

from __future__ import annotations

from portal_importer.adapters import rowpack
from portal_importer.domain.validation import CheckedRow, check_row
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row


def _rows() -> list[CheckedRow]:
    bad = dict(client_row(2), **{"user.email": "pas-une-adresse"})
    return [
        check_row(3, client_row(1), offline_context(), keep_client=True),
        check_row(4, bad, offline_context(), frozenset({"company.name"}), keep_client=True),
    ]


def test_rows_come_back_as_they_were_stored() -> None:
    rows = _rows()
    assert rows[0].client is not None
    assert rows[1].client is None  # an invalid row has no client
    assert rows[1].problems
    document = rowpack.pack(rows)
    assert (document["first_row"], document["last_row"], document["count"]) == (3, 4, 2)
    assert rowpack.unpack(document) == rows


def test_outcomes_alone_leave_cells_and_clients_out() -> None:
    rows = _rows()
    document = rowpack.pack(rows)
    outcomes = rowpack.unpack({"outcomes": document["outcomes"]})
    assert outcomes == [r.outcome() for r in rows]


def test_clients_written_under_another_schema_are_not_trusted() -> None:
    document = rowpack.pack(_rows())
    document["client_schema"] = "an-older-schema"
    assert [r.client for r in rowpack.unpack(document)] == [None, None]


def test_an_emptied_chunk_packs_and_unpacks() -> None:
    assert rowpack.unpack(rowpack.pack([])) == []
