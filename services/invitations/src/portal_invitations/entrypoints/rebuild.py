"""`python -m portal_invitations.entrypoints.rebuild`: rebuild what this service knows of the
clients (their profiles: name, e-mail, language, status, group) from the compacted ClientState
topic, e.g. for a new deployment or after the database was lost.

Read from the beginning to the end offsets at the start, with no consumer group (the worker's
offsets are untouched; it may keep running). Each state goes through the live consumers' batch
handler: a profile is taken only when its version is newer, and a state never invites (only an
import's ClientCreated does). Invitations themselves (tokens, sendings) are this service's own
data: a rebuild cannot bring lost ones back. Prints what it did as JSON.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

from portal_contracts.clients import ClientState
from portal_invitations.bootstrap import Service, bootstrap
from portal_invitations.entrypoints.consumers import state_command
from portal_invitations.service import commands, handlers
from portal_servicekit.logs import configure_logging
from portal_servicekit.replay import RebuildReport, rebuild_read_model


async def rebuild_clients(service: Service) -> RebuildReport:
    await service.prepare()

    async def remember(items: list[commands.RecordClient]) -> int:
        return await handlers.record_clients(commands.RecordClients(tuple(items)), service.deps)

    return await rebuild_read_model(
        service.settings.platform.kafka_bootstrap_servers,
        service.runtime.topics.of(ClientState),
        state_command,
        remember,
        client_id="invitations-rebuild",
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
