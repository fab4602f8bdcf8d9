"""The rebuild's handler with fakes: of one client's states only the newest is written and an
older one never replaces a newer copy. (Each goes through remember_client_route, which also
plans the documents that waited for the client: test_handlers.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from portal_contracts.clients import ClientState
from portal_delivery.domain.model import ClientRoute
from portal_delivery.service.rebuild import remember_client_states
from services.delivery.tests.fakes import fake_deps
from services.delivery.tests.samples import snapshot

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def state(version: int, client_id: str = "c1", folder: str = "acme") -> ClientState:
    return ClientState.of("o1", snapshot(version, folder, client_id), None)


async def test_the_newest_state_of_each_client_is_kept_and_a_newer_copy_stays() -> None:
    deps = fake_deps(NOW)
    newer = ClientRoute.from_snapshot("o1", snapshot(9, "kept", "c3"))
    assert await deps.routes.keep_newest(newer)
    states = [state(1), state(2, folder="v2"), state(1, "c2"), state(4, "c3", "older")]
    assert await remember_client_states(states, deps) == 2  # c1 v2, c2 v1
    c1, c3 = await deps.routes.get("o1", "c1"), await deps.routes.get("o1", "c3")
    assert c1 is not None
    assert c1.version == 2
    assert c3 == newer
    assert await remember_client_states(states, deps) == 0  # again: nothing newer
