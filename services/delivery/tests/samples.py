"""Events as the other services publish them, for the delivery tests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from portal_contracts.clients import (
    ClientSnapshot,
    ClientUser,
    Company,
    DeliveryTarget,
    Integration,
    SftpTarget,
    Timing,
    VatCheck,
)
from portal_contracts.documents import BlobRef, DocumentReady, DocumentReadyPayload
from portal_contracts.values import (
    ClientStatus,
    DocumentKind,
    Language,
    SubscriptionMode,
    VatFrequency,
)


def snapshot(
    version: int,
    folder: str = "acme",
    client_id: str = "c1",
    *,
    target: DeliveryTarget | None = None,
    timing: Timing | None = None,
    group_id: str = "everyone",
) -> ClientSnapshot:
    now = datetime.now(UTC)
    return ClientSnapshot(
        client_id=client_id,
        version=version,
        status=ClientStatus.ACTIVE,
        vat_check=VatCheck.VALID,
        created_at=now,
        updated_at=now,
        company=Company(
            vat_number="BE0403170701",
            name="Acme",
            vat_frequency=VatFrequency.MONTHLY,
            subscription_mode=SubscriptionMode.DELIVERY_ONLY,
        ),
        user=ClientUser(
            first_name="A",
            last_name="B",
            email=f"{client_id}@acme.be",
            mobile_phone="+32470123456",
            language=Language.FR,
        ),
        group_id=group_id,
        integration=Integration(
            target=target or SftpTarget(connection="office", folder=folder), timing=timing
        ),
    )


def blob(data: bytes, name: str, media_type: str, blob_id: str | None = None) -> BlobRef:
    return BlobRef(
        blob_id=blob_id or uuid.uuid4().hex[:24],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        filename=name,
        media_type=media_type,
    )


def document_ready(
    ubl: BlobRef,
    pdf: BlobRef | None = None,
    *,
    office_id: str = "o1",
    client_id: str = "c1",
    kind: DocumentKind = DocumentKind.SALES_INVOICE,
    document_id: str | None = None,
    needs_data_entry: bool = False,
    pdf_beside: bool = False,
) -> DocumentReady:
    return DocumentReady.new(
        office_id=office_id,
        payload=DocumentReadyPayload(
            document_id=document_id or uuid.uuid4().hex,
            client_id=client_id,
            kind=kind,
            profile="peppol-bis3",
            ubl=ubl,
            pdf=pdf,
            needs_data_entry=needs_data_entry,
            pdf_beside=pdf_beside,
        ),
    )
