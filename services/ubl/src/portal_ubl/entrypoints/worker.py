"""The worker process: the client read model's consumer and the outbox relay (servicekit).

Run with ``python -m portal_ubl.entrypoints.worker`` (what ``make up`` and the images run) or
``faststream run --factory portal_ubl.entrypoints.worker:create_worker``.
"""

from __future__ import annotations

import asyncio

from faststream import FastStream

from portal_servicekit.runtime import worker_app
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.entrypoints.consumers import build_router


def create_worker(service: Service | None = None) -> FastStream:
    service = service or bootstrap()
    return worker_app(service.runtime, build_router(service), prepare=service.prepare)


def main() -> None:
    asyncio.run(create_worker().run())


if __name__ == "__main__":
    main()
