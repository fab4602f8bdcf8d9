"""Planning rules: which target, which files, when (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_contracts.clients import (
    CreditCardStatements,
    EmailTarget,
    Integration,
    ManualTarget,
    SendTiming,
    SftpTarget,
    Timing,
)
from portal_contracts.values import AccountingSoftware, DocumentKind, TransferMethod
from portal_delivery.domain.delivery import FileRef, State
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument, base_name, due_at, plan

READY = datetime(2026, 3, 27, 9, 30, tzinfo=UTC)  # the Friday before the switch to summer time
UBL = FileRef("ubl", "b1", "a" * 64, 10, "INV-1_doc12345.xml", "application/xml")
PDF = FileRef("pdf", "b2", "b" * 64, 20, "INV-1_doc12345.pdf", "application/pdf")


def document(kind: DocumentKind = DocumentKind.SALES_INVOICE, **changes: object) -> ReadyDocument:
    fields: dict[str, object] = {
        "document_id": "doc12345",
        "office_id": "o1",
        "client_id": "c1",
        "kind": kind,
        "ready_at": READY,
        "needs_data_entry": False,
        "ubl": UBL,
        "pdf": PDF,
        "pdf_beside": False,
        "correlation_id": "00000000-0000-0000-0000-000000000001",
    }
    fields.update(changes)
    return ReadyDocument(**fields)  # type: ignore[arg-type]


def route(target: object, **integration: object) -> ClientRoute:
    return ClientRoute(
        "o1",
        "c1",
        3,
        Integration(target=target, **integration),
        group_id="g1",
        vat_number="BE0403170701",
    )


OFFICE = OfficeDefaults("o1", 1, Timing(when=SendTiming.IMMEDIATELY))
EMAIL = EmailTarget(purchase="in@yuki.be", sales="out@yuki.be", misc="misc@yuki.be")


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        (DocumentKind.PURCHASE_INVOICE, "in@yuki.be"),
        (DocumentKind.CREDIT_NOTE, "in@yuki.be"),
        (DocumentKind.SALES_INVOICE, "out@yuki.be"),
        (DocumentKind.MISC_DOCUMENT, "misc@yuki.be"),
        (DocumentKind.CREDIT_CARD_STATEMENT, "in@yuki.be"),
    ],
)
def test_email_picks_the_address_of_the_documents_type(kind: DocumentKind, address: str) -> None:
    [delivery] = plan(document(kind), route(EMAIL), OFFICE, READY)
    assert delivery.channel is TransferMethod.EMAIL
    assert delivery.destination == address


def test_credit_card_statements_follow_the_client_else_the_office() -> None:
    statement = document(DocumentKind.CREDIT_CARD_STATEMENT)
    with_misc = OfficeDefaults("o1", 1, OFFICE.timing, CreditCardStatements.WITH_MISC)
    assert plan(statement, route(EMAIL), with_misc, READY)[0].destination == "misc@yuki.be"
    client_says = route(EMAIL, credit_card_statements=CreditCardStatements.WITH_PURCHASES)
    assert plan(statement, client_says, with_misc, READY)[0].destination == "in@yuki.be"


def test_a_single_address_serves_every_type_and_a_missing_one_fails_visibly() -> None:
    single = EmailTarget(all="inbox@winbooks.be")
    assert plan(document(), route(single), OFFICE, READY)[0].destination == "inbox@winbooks.be"
    [nowhere] = plan(document(), route(EmailTarget(purchase="in@yuki.be")), OFFICE, READY)
    assert nowhere.state is State.FAILED
    assert nowhere.last_problem is not None
    assert nowhere.last_problem.code == "email.no_address"


def test_manual_is_recorded_and_nothing_is_sent() -> None:
    [delivery] = plan(document(), route(ManualTarget()), OFFICE, READY)
    assert delivery.state is State.RECORDED
    assert delivery.due_at is None


def test_sftp_goes_to_the_clients_folder_by_type() -> None:
    [delivery] = plan(
        document(), route(SftpTarget(connection="Kantoor", folder="/acme/")), OFFICE, READY
    )
    assert (delivery.destination, delivery.folder) == ("Kantoor", "acme/sales")


def test_the_same_document_and_target_always_give_the_same_delivery_id() -> None:
    first = plan(document(), route(EMAIL), OFFICE, READY)[0]
    again = plan(document(), route(EMAIL), OFFICE, READY + timedelta(hours=1))[0]
    other = plan(document(document_id="doc99999"), route(EMAIL), OFFICE, READY)[0]
    assert first.delivery_id == again.delivery_id != other.delivery_id


def test_immediately_is_due_when_ready() -> None:
    assert due_at(Timing(when=SendTiming.IMMEDIATELY), READY, needs_data_entry=True) == READY


def test_after_processing_waits_while_data_entry_is_needed() -> None:
    timing = Timing(when=SendTiming.AFTER_PROCESSING)
    assert due_at(timing, READY, needs_data_entry=False) == READY
    assert due_at(timing, READY, needs_data_entry=True) is None
    [waiting] = plan(document(needs_data_entry=True), route(EMAIL), OfficeDefaults("o1"), READY)
    assert waiting.state is State.PLANNED


def test_delayed_counts_calendar_days_at_the_same_brussels_time_across_dst() -> None:
    # 27 March 10:30 in Brussels (CET, UTC+1); 3 days later it is summer time (UTC+2).
    due = due_at(Timing(when=SendTiming.DELAYED, delay_days=3), READY, needs_data_entry=False)
    assert due == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # still 10:30 in Brussels


def test_the_clients_timing_exception_wins_over_the_office_default() -> None:
    delayed = route(EMAIL, timing=Timing(when=SendTiming.DELAYED, delay_days=2))
    [delivery] = plan(document(), delayed, OFFICE, READY)
    assert delivery.due_at == datetime(2026, 3, 29, 8, 30, tzinfo=UTC)  # 10:30 in Brussels, DST
    assert delivery.timing == {"when": "delayed", "delay_days": 2, "source": "client"}
    assert plan(document(), route(EMAIL), OFFICE, READY)[0].timing["source"] == "office"


def test_files_are_the_ubl_and_the_pdf_beside_it_only_where_the_profile_says() -> None:
    assert [f.role for f in plan(document(), route(EMAIL), OFFICE, READY)[0].files] == ["ubl"]
    beside = plan(document(pdf_beside=True), route(EMAIL), OFFICE, READY)[0]
    assert [f.role for f in beside.files] == ["pdf", "ubl"]  # the XML last
    pdf_only = plan(document(ubl=None), route(EMAIL), OFFICE, READY)[0]
    assert [f.role for f in pdf_only.files] == ["pdf"]


def test_the_package_is_kept_for_its_limits() -> None:
    basecone = route(EMAIL, accounting_software=AccountingSoftware.BASECONE)
    assert plan(document(), basecone, OFFICE, READY)[0].package == "basecone"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("INV-2026-001.xml", "INV-2026-001_doc12345"),
        ("Facture – janvier.pdf", "Facture-janvier_doc12345"),
        ("../../etc/passwd", "passwd_doc12345"),
        ("..\\..\\boot.ini", "boot_doc12345"),
        ("", "document_doc12345"),
    ],
)
def test_base_names_are_deterministic_and_safe(original: str, expected: str) -> None:
    assert base_name("doc12345xyz", original) == expected
