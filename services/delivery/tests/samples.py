"""Client snapshots as the clients service publishes them."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_contracts.clients import (
    ClientSnapshot,
    ClientUser,
    Company,
    Integration,
    SftpTarget,
    VatCheck,
)
from portal_contracts.values import ClientStatus, Language, SubscriptionMode, VatFrequency


def snapshot(version: int, folder: str, client_id: str = "c1") -> ClientSnapshot:
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
            email="a@acme.be",
            mobile_phone="+32470123456",
            language=Language.FR,
        ),
        group_id="everyone",
        integration=Integration(target=SftpTarget(connection="office", folder=folder)),
    )
