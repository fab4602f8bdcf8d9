"""From a ready document to its deliveries: which targets, which files, when.

- The route is the client's integration settings; its timing exception, if any, wins over the
  office's default timing (resolved when planned, again when the settings change).
- ``immediately``: due when the document is ready. ``after_processing``: due once the document
  needs no more data entry (a UBL from intake is processed; a PDF waiting for data entry waits).
  ``delayed`` N days: N calendar days after it was ready, at the same time of day in Brussels.
- E-mail picks the address of the document's type (purchase, sales, miscellaneous), or the single
  address; credit-card statements go with the purchases or the miscellaneous documents as the
  client (or else the office) says. Manual targets are recorded, nothing is sent.
- The delivery id is a hash of the document and the target, so a replayed DocumentReady plans
  nothing new (the store refuses the same id twice).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal_contracts.clients import (
    AgentTarget,
    CreditCardStatements,
    EmailTarget,
    OneDriveTarget,
    SendTiming,
    SftpTarget,
    Timing,
)
from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.domain.delivery import Delivery, FileRef, Problem, State
from portal_delivery.domain.model import ClientRoute, OfficeDefaults

BRUSSELS = ZoneInfo("Europe/Brussels")


class DocType:
    PURCHASE = "purchase"
    SALES = "sales"
    MISC = "misc"


@dataclass(frozen=True)
class ReadyDocument:
    document_id: str
    office_id: str
    client_id: str
    kind: DocumentKind
    ready_at: datetime
    needs_data_entry: bool
    ubl: FileRef | None
    pdf: FileRef | None
    pdf_beside: bool
    correlation_id: str


def doc_type(kind: DocumentKind, statements: CreditCardStatements) -> str:
    if kind is DocumentKind.SALES_INVOICE:
        return DocType.SALES
    if kind is DocumentKind.MISC_DOCUMENT:
        return DocType.MISC
    if kind is DocumentKind.CREDIT_CARD_STATEMENT:
        return DocType.MISC if statements is CreditCardStatements.WITH_MISC else DocType.PURCHASE
    return DocType.PURCHASE  # purchase invoices and the credit notes received with them


def due_at(timing: Timing, ready_at: datetime, needs_data_entry: bool) -> datetime | None:
    """When the document may go out; None while it waits for processing."""
    if timing.when is SendTiming.IMMEDIATELY:
        return ready_at
    if timing.when is SendTiming.AFTER_PROCESSING:
        return None if needs_data_entry else ready_at
    local = ready_at.astimezone(BRUSSELS)
    # Calendar days at the same wall-clock time (a DST change does not shift it by an hour).
    later = (local.replace(tzinfo=None) + timedelta(days=timing.delay_days or 0)).replace(
        tzinfo=BRUSSELS
    )
    return later.astimezone(ready_at.tzinfo)


def effective_timing(route: ClientRoute, office: OfficeDefaults) -> tuple[Timing, dict[str, Any]]:
    """The client's exception, else the office's default, and how the ledger records it."""
    timing = route.integration.timing or office.timing
    record = {
        "when": timing.when.value,
        "delay_days": timing.delay_days,
        "source": "client" if route.integration.timing is not None else "office",
    }
    return timing, record


def files_for(document: ReadyDocument, channel: TransferMethod) -> list[FileRef]:
    """The UBL (its PDF embedded) and the PDF beside it where the profile says so; a PDF-only
    document is its PDF. On a folder the PDF is written first and the UBL last (importers key
    on the XML). Clearfacts' API makes one inbox document per upload: the UBL alone (it shows
    the PDF embedded in it), or the PDF of a PDF-only document."""
    if channel is TransferMethod.API:
        main = document.ubl or document.pdf
        return [main] if main is not None else []
    files: list[FileRef] = []
    if document.pdf is not None and (document.ubl is None or document.pdf_beside):
        files.append(document.pdf)
    if document.ubl is not None:
        files.append(document.ubl)
    return files


def plan(
    document: ReadyDocument, route: ClientRoute, office: OfficeDefaults, now: datetime
) -> list[Delivery]:
    timing, timing_record = effective_timing(route, office)
    statements = route.integration.credit_card_statements or office.credit_card_statements
    kind = doc_type(document.kind, statements)
    target = route.integration.target
    due = due_at(timing, document.ready_at, document.needs_data_entry)
    problem: Problem | None = None
    destination, folder = "manual", ""
    if isinstance(target, EmailTarget):
        destination = getattr(target, kind) or target.all or ""
        if not destination:
            problem = Problem("email.no_address", kind, retryable=False)
    elif isinstance(target, SftpTarget | AgentTarget):
        destination, folder = target.connection, f"{target.folder.strip('/')}/{kind}"
    elif isinstance(target, OneDriveTarget):
        destination, folder = "onedrive", f"{target.folder.strip('/')}/{kind}"
    elif target.kind is TransferMethod.API:
        # The administration (its enterprise number) and the invoice type are where it goes.
        destination, folder = "clearfacts", f"{enterprise_number(route.vat_number)}/{kind}"
    delivery = Delivery(
        delivery_id=delivery_id(document.document_id, target.kind, destination, folder),
        office_id=document.office_id,
        client_id=document.client_id,
        group_id=route.group_id,
        document_id=document.document_id,
        kind=document.kind,
        channel=target.kind,
        destination=destination,
        folder=folder,
        files=files_for(document, target.kind),
        state=State.PLANNED if due is None else State.SCHEDULED,
        due_at=due,
        created_at=now,
        timing=timing_record,
        correlation_id=document.correlation_id,
        ready_at=document.ready_at,
        package=software.value if (software := route.integration.accounting_software) else "",
    )
    if target.kind is TransferMethod.MANUAL:
        delivery.state, delivery.due_at = State.RECORDED, None
    elif problem is not None:
        delivery.state, delivery.due_at, delivery.last_problem = State.FAILED, None, problem
    return [delivery]


def delivery_id(document_id: str, channel: TransferMethod, destination: str, folder: str) -> str:
    key = f"{document_id}|{channel.value}|{destination.casefold()}|{folder}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def enterprise_number(vat_number: str) -> str:
    """The 10 digits Clearfacts names an administration by ("BE 0403.170.701" → "0403170701");
    "" when the VAT number is not Belgian (the channel then refuses it with that reason)."""
    compact = re.sub(r"[\s.\-]", "", vat_number).upper().removeprefix("BE")
    if compact.isdigit() and len(compact) in (9, 10):
        return compact.zfill(10)
    return ""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def base_name(document_id: str, original: str) -> str:
    """The name a document's files are delivered under (UBL and PDF share it): deterministic,
    so a retry overwrites instead of adding a file; ASCII, safe on every file system."""
    last = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem = last.rsplit(".", 1)[0] if "." in last.lstrip(".") else last
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("-", ascii_stem).strip("-._")[:80] or "document"
    return f"{cleaned}_{document_id[:8]}"
