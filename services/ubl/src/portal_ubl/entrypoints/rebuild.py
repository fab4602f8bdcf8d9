"""`python -m portal_ubl.entrypoints.rebuild`: rebuild the clients' settings this service keeps
(group, accounting software, sales ledger accounts) from the compacted ClientState topic, e.g.
for a new deployment or after the database was lost.

Read from the beginning to the end offsets at the start, with no consumer group (the worker's
offsets are untouched; it may keep running). Each state goes through the live consumer's
handler: kept only when its version is newer than the stored one. Prints what it did as JSON.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

from portal_contracts.clients import ClientState
from portal_servicekit.logs import configure_logging
from portal_servicekit.replay import RebuildReport, rebuild_read_model
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.entrypoints.consumers import settings_from
from portal_ubl.service.handlers import record_client_settings


async def rebuild_clients(service: Service) -> RebuildReport:
    await service.prepare()

    async def remember(states: list[ClientState]) -> int:
        stored = 0
        for state in states:  # in the partition's order: a client's newest comes last
            settings = settings_from(state.office_id, state.payload.client)
            stored += await record_client_settings(settings, service.deps)
        return stored

    return await rebuild_read_model(
        service.settings.platform.kafka_bootstrap_servers,
        service.runtime.topics.of(ClientState),
        ClientState.model_validate_json,
        remember,
        client_id="ubl-rebuild",
    )


async def main() -> int:
    configure_logging()
    service = bootstrap()
    try:
        report = await rebuild_clients(service)
    finally:
        await service.close()
    print(json.dumps(asdict(report)))
    return 1 if report.unreadable else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
