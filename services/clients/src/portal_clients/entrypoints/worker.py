"""`python -m portal_clients.entrypoints.worker`: the Kafka consumers, the outbox relay, the
re-checks of VAT numbers the register could not confirm, and the release of what archived
clients held once their hold has run out."""

from __future__ import annotations

import asyncio

from faststream import FastStream

from portal_clients.bootstrap import Service, bootstrap
from portal_clients.entrypoints.consumers import build_router
from portal_clients.service.handlers import HANDLERS
from portal_contracts.broker import create_compacted_topics
from portal_servicekit.polling import PollingLoop
from portal_servicekit.runtime import worker_app


def vat_rechecks(service: Service) -> PollingLoop:
    """Asks the register again about due checks: at once while some are due, else every
    ``recheck_interval_s`` (claims make it safe on several replicas)."""

    async def recheck() -> int:
        done: int = await HANDLERS["recheck_vat"](service.deps)
        return done

    return PollingLoop(
        recheck, name="clients-vat-rechecks", poll_interval_s=service.settings.recheck_interval_s
    )


def claim_releases(service: Service) -> PollingLoop:
    """Frees the e-mail and VAT number of archived clients whose hold ran out (one update_many;
    idempotent, so several replicas may run it)."""

    async def release() -> int:
        await HANDLERS["release_archived_claims"](service.deps)
        return 0  # one pass per interval: whatever was due is done

    return PollingLoop(
        release, name="clients-claim-releases", poll_interval_s=service.settings.release_interval_s
    )


def create_worker(service: Service | None = None) -> FastStream:
    service = service or bootstrap()
    ready = service

    async def prepare() -> None:
        await ready.prepare()
        # Where topics are auto-created (a local broker), ClientState's is made compacted first.
        platform = ready.settings.platform
        await create_compacted_topics(platform.kafka_bootstrap_servers, ready.runtime.topics)

    return worker_app(
        service.runtime,
        build_router(service),
        prepare=prepare,
        background=[vat_rechecks(service), claim_releases(service)],
    )


def main() -> None:
    asyncio.run(create_worker().run())


if __name__ == "__main__":
    main()
