"""The client routes read model keeps the newest settings only (fake repository, no I/O)."""

from __future__ import annotations

from portal_contracts.clients import SftpTarget
from portal_delivery.service.deps import Deps
from portal_delivery.service.handlers import remember_client_route
from services.delivery.tests.fakes import FakeRoutes
from services.delivery.tests.samples import snapshot


async def test_a_newer_snapshot_replaces_the_route_and_an_older_one_is_ignored() -> None:
    deps = Deps(routes=FakeRoutes())
    assert await remember_client_route("o1", snapshot(2, "new"), deps)
    assert not await remember_client_route("o1", snapshot(1, "old"), deps)
    assert not await remember_client_route("o1", snapshot(2, "replayed"), deps)
    route = await deps.routes.get("o1", "c1")
    assert route is not None
    assert route.integration.target == SftpTarget(connection="office", folder="new")
