"""`python -m portal_delivery.entrypoints.rebuild`: rebuild the clients' read model.

Reads the compacted ClientState topic (every client's newest state, written by the clients
service) from its beginning to its end offsets at the start, with a consumer of no group (the
planner's offsets and group are untouched), and keeps each state whose version is newer than the
stored one. For a new deployment, or after ``client_routes`` was lost or dropped; the planner may
keep running meanwhile (what it receives is newer, or the same). Prints what it did as JSON.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

from portal_contracts.clients import ClientState
from portal_delivery.bootstrap import Service, bootstrap
from portal_delivery.service.rebuild import remember_client_states
from portal_servicekit.logs import configure_logging
from portal_servicekit.replay import RebuildReport, rebuild_read_model


async def rebuild_client_routes(service: Service) -> RebuildReport:
    await service.prepare()

    async def remember(states: list[ClientState]) -> int:
        return await remember_client_states(states, service.deps)

    return await rebuild_read_model(
        service.settings.platform.kafka_bootstrap_servers,
        service.runtime.topics.of(ClientState),
        ClientState.model_validate_json,
        remember,
        client_id="delivery-rebuild",
    )


async def main() -> int:
    configure_logging()
    service = bootstrap()
    try:
        report = await rebuild_client_routes(service)
    finally:
        await service.close()
    print(json.dumps(asdict(report)))
    return 1 if report.unreadable else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
