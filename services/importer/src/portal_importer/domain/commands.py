"""What the accountant asks of the importer, one command per use case (the HTTP edge builds them).

``token`` is the caller's bearer token: the clients service answers with the caller's rights
(the office's groups offered to a staff member are theirs only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portal_contracts.identity import Caller


@dataclass(frozen=True)
class Upload:
    caller: Caller
    token: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class NewVersion:
    caller: Caller
    token: str
    import_id: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class EditRow:
    caller: Caller
    token: str
    import_id: str
    row: int
    cells: Mapping[str, str | None]  # by column header (any language) or key; None clears


@dataclass(frozen=True)
class DeleteRow:
    caller: Caller
    token: str
    import_id: str
    row: int


@dataclass(frozen=True)
class Revalidate:
    caller: Caller
    token: str
    import_id: str


@dataclass(frozen=True)
class Confirm:
    caller: Caller
    token: str
    import_id: str


@dataclass(frozen=True)
class ShowImport:
    caller: Caller
    import_id: str


@dataclass(frozen=True)
class ListImports:
    caller: Caller
    limit: int = 100


@dataclass(frozen=True)
class OfferGroups:
    """The group names the template's drop-down offers this caller."""

    caller: Caller
    token: str
