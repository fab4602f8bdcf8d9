"""The client routes read model keeps the newest settings only (fake repository, no I/O)."""

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
from portal_delivery.domain.model import ClientRoute
from portal_delivery.service.handlers import remember_client_route


class FakeRoutes:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], ClientRoute] = {}

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        return self.routes.get((office_id, client_id))

    async def save(self, route: ClientRoute) -> None:
        self.routes[(route.office_id, route.client_id)] = route


def snapshot(version: int, folder: str) -> ClientSnapshot:
    now = datetime.now(UTC)
    return ClientSnapshot(
        client_id="c1",
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


async def test_a_newer_snapshot_replaces_the_route_and_an_older_one_is_ignored() -> None:
    routes = FakeRoutes()
    assert await remember_client_route("o1", snapshot(2, "new"), routes)
    assert not await remember_client_route("o1", snapshot(1, "old"), routes)
    route = await routes.get("o1", "c1")
    assert route is not None
    assert route.integration.target == SftpTarget(connection="office", folder="new")
