"""`python -m portal_clients.entrypoints.republish_states [--office ID] [--after CLIENT_ID]`.

Announces every client's current state again on the compacted ClientState topic, for clients
created before the topic existed or after the topic was lost; then waits until the outbox is
published (by this process, or by the worker's relay when it holds the lease). Safe to run
beside the live service and to run again: consumers keep a state only when its version is newer.
``--after`` resumes an interrupted run from the last client id it logged.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

from portal_clients.bootstrap import Service, bootstrap
from portal_clients.service.handlers import HANDLERS
from portal_contracts.broker import create_compacted_topics
from portal_servicekit.logs import configure_logging

logger = logging.getLogger(__name__)


async def republish(
    service: Service,
    *,
    office_id: str | None = None,
    after: str | None = None,
    publish_timeout_s: float = 600.0,
) -> int:
    """Every client's state into the outbox, then published; returns how many."""
    runtime = service.runtime
    await service.prepare()
    await create_compacted_topics(service.settings.platform.kafka_bootstrap_servers, runtime.topics)
    count: int = await HANDLERS["republish_states"](service.deps, office_id=office_id, after=after)
    await runtime.broker.start()
    try:
        await runtime.relay.drain(publish_timeout_s)
    finally:
        await runtime.relay.stop()
        await runtime.broker.stop()
    return count


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal_clients.entrypoints.republish_states")
    parser.add_argument("--office", help="only this office's clients")
    parser.add_argument("--after", help="resume after this client id")
    args = parser.parse_args(argv)
    configure_logging()
    service = bootstrap()
    try:
        count = await republish(service, office_id=args.office, after=args.after)
    finally:
        await service.close()
    logger.info("client states republished and published: %d", count)
    print(f"republished {count} client states")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
