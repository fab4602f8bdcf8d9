"""The importer's worker: the outbox relay (ImportValidated chunks to Kafka), the clients
service's answers, and the loop that finishes an interrupted confirmation. Any number of workers
may run: one relays at a time (servicekit's lease), the answers are idempotent, an interrupted
confirmation is claimed by one.

    python -m portal_importer.entrypoints.worker
"""

from __future__ import annotations

import asyncio
from functools import partial

from faststream import FastStream

from portal_importer.bootstrap import Service, bootstrap
from portal_importer.entrypoints.consumers import build_router
from portal_importer.service.confirmation import resume_confirmation
from portal_servicekit.polling import PollingLoop
from portal_servicekit.runtime import worker_app


def create_worker(service: Service | None = None) -> FastStream:
    service = service or bootstrap()
    resumer = PollingLoop(
        partial(resume_confirmation, service.deps),
        name="importer-resume-confirmation",
        poll_interval_s=service.settings.resume_poll_s,
    )
    return worker_app(
        service.runtime, build_router(service), prepare=service.prepare, background=[resumer]
    )


def main() -> None:
    asyncio.run(create_worker().run())


if __name__ == "__main__":
    main()
