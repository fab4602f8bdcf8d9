"""Handlers wired with fakes: idempotency, the event stored with the document, ledger accounts,
PDF-only, failures."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import etree

from portal_contracts.documents import DocumentReady
from portal_contracts.identity import Caller, Role
from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.domain.document import ClientSettings, LedgerAccount, Status, SubmitDocument
from portal_ubl.domain.errors import RejectedDocument, UnknownClient
from portal_ubl.samples import make_pdf, sample_data
from portal_ubl.service.deps import Deps
from portal_ubl.service.handlers import record_client_settings, submit_document
from services.ubl.tests.fakes import FakeBlobStore, FakeClients, FakeDocuments
from services.ubl.tests.fakes import fake_deps as _fake_deps

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
PDF = make_pdf(2)


def fake_deps(**overrides: object) -> Deps:
    return _fake_deps(clients=FakeClients(known=[("office-1", "client-1")]), **overrides)


def _cmd(kind: DocumentKind = DocumentKind.SALES_INVOICE, **data: object) -> SubmitDocument:
    return SubmitDocument(
        "office-1",
        "client-1",
        kind,
        pdf=PDF,
        pdf_filename="f.pdf",
        data=json.dumps(sample_data(lines=3, **data)).encode(),
    )


async def test_a_document_is_stored_and_announced_with_references_and_hashes() -> None:
    deps = fake_deps()
    document = await submit_document(_cmd(), deps)
    assert document.status is Status.READY
    assert isinstance(deps.documents, FakeDocuments)
    [event] = deps.documents.outbox
    assert isinstance(event, DocumentReady)
    payload = event.payload
    assert payload.document_id == document.document_id
    assert payload.kind is DocumentKind.SALES_INVOICE
    assert payload.profile == "peppol-bis3"
    assert payload.ubl is not None
    assert payload.pdf is not None
    blobs = deps.blobs
    assert isinstance(blobs, FakeBlobStore)
    assert blobs.blobs[payload.pdf.blob_id] == PDF  # byte for byte
    import hashlib

    assert payload.ubl.sha256 == hashlib.sha256(blobs.blobs[payload.ubl.blob_id]).hexdigest()
    assert event.key() == b"client-1"
    assert "bytes" not in event.model_dump_json()


async def test_the_same_input_twice_is_one_document_and_one_event() -> None:
    deps = _fake_deps(
        clients=FakeClients(known=[("office-1", "client-1"), ("office-1", "client-2")])
    )
    first = await submit_document(_cmd(), deps)
    second = await submit_document(_cmd(), deps)
    assert first.document_id == second.document_id
    assert isinstance(deps.documents, FakeDocuments)
    assert len(deps.documents.outbox) == 1
    other_client = replace(_cmd(), client_id="client-2")
    assert (await submit_document(other_client, deps)).document_id != first.document_id


async def test_rejected_input_stores_nothing() -> None:
    deps = fake_deps()
    cmd = _cmd()
    broken = replace(cmd, data=cmd.data.replace(b'"S"', b'"Q"') if cmd.data else None)
    with pytest.raises(RejectedDocument):
        await submit_document(broken, deps)
    assert isinstance(deps.blobs, FakeBlobStore)
    assert deps.blobs.puts == 0
    assert isinstance(deps.documents, FakeDocuments)
    assert deps.documents.documents == {}


async def test_pdf_alone_invoice_needs_data_entry_with_metadata() -> None:
    deps = fake_deps()
    cmd = SubmitDocument(
        "office-1", "client-1", DocumentKind.PURCHASE_INVOICE, pdf=PDF, pdf_filename="scan.pdf"
    )
    document = await submit_document(cmd, deps)
    assert document.needs_data_entry
    assert document.ubl is None
    assert document.metadata is not None
    assert isinstance(deps.blobs, FakeBlobStore)
    meta = json.loads(deps.blobs.blobs[document.metadata.blob_id])
    assert meta == {
        "client_id": "client-1",
        "kind": "purchase_invoice",
        "filename": "scan.pdf",
        "pages": 2,
        "needs_data_entry": True,
    }


async def test_a_credit_card_statement_is_a_pdf_not_needing_data() -> None:
    deps = fake_deps()
    cmd = SubmitDocument("office-1", "client-1", DocumentKind.CREDIT_CARD_STATEMENT, pdf=PDF)
    document = await submit_document(cmd, deps)
    assert not document.needs_data_entry
    assert document.ubl is None
    assert document.pdf is not None


async def test_sales_lines_get_the_chosen_account_else_the_default() -> None:
    deps = fake_deps()
    await record_client_settings(
        ClientSettings(
            "office-1",
            "client-1",
            3,
            "octopus",
            (LedgerAccount("700000", "Ventes"), LedgerAccount("700100", "Services", default=True)),
        ),
        deps,
    )
    data = sample_data(lines=2)
    data["lines"][0]["ledger_account"] = "700000"
    cmd = replace(_cmd(), data=json.dumps(data).encode())
    document = await submit_document(cmd, deps)
    assert document.profile == "octopus"
    assert isinstance(deps.blobs, FakeBlobStore)
    assert document.ubl is not None
    root = etree.fromstring(deps.blobs.blobs[document.ubl.blob_id])
    accounts = [line.findtext(CBC + "AccountingCost") for line in root.iter(CAC + "InvoiceLine")]
    assert accounts == ["700000", "700100"]


async def test_an_account_the_client_does_not_have_is_refused() -> None:
    deps = fake_deps()
    await record_client_settings(
        ClientSettings("office-1", "client-1", 2, None, (LedgerAccount("700000", default=True),)),
        deps,
    )
    data = sample_data(lines=1)
    data["lines"][0]["ledger_account"] = "999"
    with pytest.raises(RejectedDocument) as caught:
        await submit_document(replace(_cmd(), data=json.dumps(data).encode()), deps)
    assert caught.value.problems[0].field == "lines.0.ledger_account"


async def test_a_client_not_heard_of_or_of_another_group_is_refused_before_anything() -> None:
    deps = fake_deps()
    assert isinstance(deps.clients, FakeClients)
    await deps.clients.save(ClientSettings("office-1", "client-a", 1, group_id="team-a"))
    staff_b = Caller(office_id="office-1", user_id="u", role=Role.STAFF, groups=("team-b",))
    for cmd in (
        replace(_cmd(), client_id="client-9"),
        replace(_cmd(), office_id="office-2"),
        replace(_cmd(), client_id="client-a", visible_groups=staff_b.visible_groups()),
    ):
        with pytest.raises(UnknownClient):
            await submit_document(cmd, deps)
    assert isinstance(deps.documents, FakeDocuments)
    assert deps.documents.documents == {}
    # A staff member acts on "Everyone"'s clients (client-1) without being in that group.
    staff_everyone = replace(_cmd(), visible_groups=staff_b.visible_groups())
    assert (await submit_document(staff_everyone, deps)).profile


async def test_an_older_client_version_does_not_overwrite_a_newer_one() -> None:
    deps = fake_deps()
    assert await record_client_settings(ClientSettings("o", "c", 5, "yuki"), deps)
    assert not await record_client_settings(ClientSettings("o", "c", 4, "winbooks"), deps)
    settings = await deps.clients.get("o", "c")
    assert settings is not None
    assert settings.accounting_software == "yuki"


async def test_unknown_software_falls_back_to_the_default_profile() -> None:
    deps = fake_deps()
    await record_client_settings(ClientSettings("office-1", "client-1", 1, "basecone"), deps)
    assert (await submit_document(_cmd(), deps)).profile == "peppol-bis3"


async def test_a_ubl_failing_the_schema_is_stored_as_failed_without_event() -> None:
    def broken(cmd: SubmitDocument, client: ClientSettings | None):  # type: ignore[no-untyped-def]
        converted = convert(cmd, None)
        root = etree.fromstring(converted.ubl or b"")
        root.append(etree.Element(CBC + "Unexpected"))
        from portal_ubl.adapters.validation import check_xsd

        return replace(converted, xsd_problems=check_xsd(root))

    deps = fake_deps(convert=broken)
    document = await submit_document(_cmd(), deps)
    assert document.status is Status.FAILED
    assert document.errors
    assert document.errors[0].rule == "UBL-XSD"
    assert isinstance(deps.documents, FakeDocuments)
    assert deps.documents.outbox == []
    assert isinstance(deps.blobs, FakeBlobStore)
    assert deps.blobs.puts == 0
