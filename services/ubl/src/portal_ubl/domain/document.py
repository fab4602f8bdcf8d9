"""A submitted document and what became of it: its blobs, its profile, its status.

The handler builds the event that announces a document; the repository stores both in one
transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal_contracts.filenames import safe_filename
from portal_contracts.values import DocumentKind
from portal_ubl.domain.errors import Problem
from portal_ubl.domain.model import Invoice

# Client ids are opaque: the clients service issues 32 hex digits. Anything outside this shape
# (separators, markup, line breaks, 10,000 characters) is refused before any lookup.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

INVOICE_KINDS = frozenset(
    {DocumentKind.PURCHASE_INVOICE, DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE}
)


class Status(StrEnum):
    READY = "ready"  # stored, schema-valid, DocumentReady pending or published
    FAILED = "failed"  # the UBL we produced failed the schema: kept with its errors, no event


@dataclass(frozen=True, slots=True)
class Blob:
    blob_id: str
    sha256: str
    size: int
    filename: str
    media_type: str


@dataclass(frozen=True, slots=True)
class SubmitDocument:
    """The command: what a client hands in (one of xml / data / pdf at least)."""

    office_id: str
    client_id: str
    kind: DocumentKind
    pdf: bytes | None = None
    pdf_filename: str | None = None
    xml: bytes | None = None
    data: bytes | None = None  # the intake JSON
    profile: str | None = None  # None: from the client's accounting software
    # The groups whose clients the submitter may see, Caller.visible_groups() (contracts: the
    # platform's one rule, a staff member's groups and "Everyone"); None: the whole office.
    visible_groups: frozenset[str] | None = None

    def may_submit_for(self, client: ClientSettings) -> bool:
        if client.office_id != self.office_id:
            return False
        if self.visible_groups is None:
            return True
        return client.group_id is not None and client.group_id in self.visible_groups

    def __post_init__(self) -> None:
        # The one place an uploaded name enters: from here on it is safe to store, to put in a
        # header or a UBL, and to deliver (no path, no quote, no control character, ".pdf").
        if self.pdf_filename is not None:
            name = safe_filename(self.pdf_filename, default="document.pdf", extension=".pdf")
            object.__setattr__(self, "pdf_filename", name)

    def idempotency_key(self) -> str:
        """Same office, client, kind and bytes → same key → one document."""
        digest = hashlib.sha256()
        for part in (self.office_id, self.client_id, self.kind.value):
            digest.update(part.encode() + b"\x00")
        for blob in (self.pdf, self.xml, self.data):
            digest.update(hashlib.sha256(blob).digest() if blob is not None else b"-")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    code: str
    label: str = ""
    default: bool = False


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What this service knows of a client, from ClientCreated / ClientUpdated."""

    office_id: str
    client_id: str
    version: int
    accounting_software: str | None = None
    sales_ledger_accounts: tuple[LedgerAccount, ...] = ()
    group_id: str | None = None  # staff see only the clients of their groups
    archived: bool = False  # the office archived it: it takes no new documents

    def default_account(self) -> str | None:
        for account in self.sales_ledger_accounts:
            if account.default:
                return account.code
        return None


@dataclass
class Document:
    document_id: str
    office_id: str
    client_id: str
    kind: DocumentKind
    key: str
    profile: str
    status: Status
    created_at: datetime
    accounting_software: str | None = None
    needs_data_entry: bool = False
    ubl: Blob | None = None
    pdf: Blob | None = None
    metadata: Blob | None = None
    errors: list[Problem] = field(default_factory=list)
    pdf_beside: bool = False  # the profile wants the PDF delivered as its own file too


@dataclass(frozen=True, slots=True)
class Converted:
    """What the conversion made of a submitted document (before anything is stored)."""

    profile: str  # the UBL profile used
    pdf_beside: bool  # the profile wants the PDF delivered as its own file too
    invoice: Invoice | None
    ubl: bytes | None
    ubl_filename: str | None
    pdf: bytes | None
    pdf_filename: str | None
    needs_data_entry: bool
    metadata: bytes | None
    xsd_problems: list[Problem]
