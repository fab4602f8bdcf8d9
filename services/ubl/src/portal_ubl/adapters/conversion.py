"""The blocking part of an intake (the handler runs it in a thread): read the input, check it,
write the UBL of the profile and check it against the UBL 2.1 schema. Pure CPU (lxml, factur-x,
pypdf), no I/O besides the schema files: the :class:`~portal_ubl.ports.Converter` of the service."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from portal_contracts.values import DocumentKind
from portal_ubl.adapters import readers
from portal_ubl.adapters.pdf import check_pdf
from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.adapters.profiles.registry import get_profile, profile_for_software
from portal_ubl.adapters.ubl_writer import build_tree, serialize
from portal_ubl.adapters.validation import check_xsd
from portal_ubl.domain import model as m
from portal_ubl.domain.bounds import check_computed, check_numbers
from portal_ubl.domain.document import INVOICE_KINDS, ClientSettings, Converted, SubmitDocument
from portal_ubl.domain.errors import Problem, RejectedDocument, reject_if
from portal_ubl.domain.rules import check_invoice, check_supplied_totals
from portal_ubl.domain.totals import compute_totals
from portal_ubl.intake import parse_invoice_data
from portal_ubl.mapping import to_invoice


def choose_profile(cmd: SubmitDocument, client: ClientSettings | None) -> Profile:
    if cmd.profile:
        return get_profile(cmd.profile)
    return profile_for_software(client.accounting_software if client else None)


def read_invoice(cmd: SubmitDocument) -> m.Invoice | None:
    """The canonical invoice from whatever was handed in; None when only a PDF is there."""
    if cmd.kind not in INVOICE_KINDS:
        if cmd.xml is not None or cmd.data is not None:
            raise RejectedDocument(
                [Problem("kind", "UBL-KIND-01", f"a {cmd.kind.value} is a PDF only")]
            )
        return None
    if cmd.xml is not None:
        return readers.read_ubl(cmd.xml)
    if cmd.data is not None:
        data = parse_invoice_data(cmd.data)
        return to_invoice(data, credit_note=cmd.kind is DocumentKind.CREDIT_NOTE)
    if cmd.pdf is not None:
        return readers.read_facturx(cmd.pdf)
    return None


def convert(cmd: SubmitDocument, client: ClientSettings | None) -> Converted:
    if cmd.pdf is None and cmd.xml is None and cmd.data is None:
        raise RejectedDocument([Problem("pdf", "UBL-IN-01", "send a PDF, a UBL XML or data")])
    pages = check_pdf(cmd.pdf) if cmd.pdf is not None else 0
    profile = choose_profile(cmd, client)
    invoice = read_invoice(cmd)
    pdf, pdf_name = cmd.pdf, cmd.pdf_filename
    if invoice is None:
        needs_entry = cmd.kind in INVOICE_KINDS
        metadata = _metadata(cmd, pages, needs_entry)
        return Converted(
            profile.name,
            profile.pdf_beside,
            None,
            None,
            None,
            pdf,
            pdf_name or "document.pdf",
            needs_entry,
            metadata,
            [],
        )
    invoice = _with_pdf(invoice, pdf, pdf_name)
    if pdf is None:  # a UBL with its PDF inside: keep that PDF as the document's PDF too
        embedded = next((a for a in invoice.attachments if a.mime_code == "application/pdf"), None)
        if embedded is not None:
            pdf, pdf_name = embedded.content, embedded.filename
    if cmd.kind is DocumentKind.SALES_INVOICE:
        invoice = apply_ledger_accounts(invoice, client)
    reject_if(check_numbers(invoice))  # before any arithmetic: bounded, finite, base > 0
    reject_if(check_invoice(invoice))
    totals = compute_totals(invoice)
    reject_if(check_computed(totals))
    reject_if(check_supplied_totals(invoice, totals) + _payment_terms(invoice, totals.payable))
    tree = build_tree(invoice, profile, totals)
    problems = check_xsd(tree)
    names = {
        "number": invoice.number,
        "kind": cmd.kind.value,
        "vat": invoice.seller.vat_number,
        "issue_date": invoice.issue_date.isoformat(),
    }
    return Converted(
        profile=profile.name,
        pdf_beside=profile.pdf_beside,
        invoice=invoice,
        ubl=serialize(tree),
        ubl_filename=profile.ubl_filename(**names),
        pdf=pdf,
        pdf_filename=profile.pdf_filename(**names) if pdf is not None else None,
        needs_data_entry=False,
        metadata=None,
        xsd_problems=problems,
    )


def apply_ledger_accounts(invoice: m.Invoice, client: ClientSettings | None) -> m.Invoice:
    """Each sales-invoice line gets the account chosen for it, else the client's default."""
    if client is None or not client.sales_ledger_accounts:
        return invoice
    known = {a.code for a in client.sales_ledger_accounts}
    default = client.default_account()
    problems = [
        Problem(
            f"lines.{i}.ledger_account",
            "UBL-GL-01",
            f"{line.ledger_account!r} is not one of the client's sales ledger accounts",
        )
        for i, line in enumerate(invoice.lines)
        if line.ledger_account and line.ledger_account not in known
    ]
    reject_if(problems)
    lines = tuple(
        line if line.ledger_account else dataclasses.replace(line, ledger_account=default)
        for line in invoice.lines
    )
    return dataclasses.replace(invoice, lines=lines)


def _with_pdf(invoice: m.Invoice, pdf: bytes | None, filename: str | None) -> m.Invoice:
    """The PDF handed in becomes the first attachment, byte for byte, replacing an embedded one."""
    if pdf is None:
        return invoice
    name = filename or f"{invoice.number}.pdf"
    others = tuple(a for a in invoice.attachments if a.mime_code != "application/pdf")
    attachment = m.Attachment(name, name, "application/pdf", pdf, None)
    return dataclasses.replace(invoice, attachments=(attachment, *others))


def _payment_terms(invoice: m.Invoice, payable: Decimal) -> list[Problem]:
    if payable > 0 and not invoice.due_date and not invoice.payment_terms:
        return [Problem("due_date", "BR-CO-25", "an amount due needs a due date or payment terms")]
    return []


def _metadata(cmd: SubmitDocument, pages: int, needs_entry: bool) -> bytes:
    return json.dumps(
        {
            "client_id": cmd.client_id,
            "kind": cmd.kind.value,
            "filename": cmd.pdf_filename,
            "pages": pages,
            "needs_data_entry": needs_entry,
        },
        ensure_ascii=False,
        indent=2,
    ).encode()
