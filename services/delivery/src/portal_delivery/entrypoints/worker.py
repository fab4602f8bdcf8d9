"""`python -m portal_delivery.entrypoints.worker`: the Kafka consumers of the delivery service."""

from __future__ import annotations

import asyncio

from faststream import FastStream

from portal_delivery.bootstrap import Service, bootstrap
from portal_delivery.entrypoints.consumers import build_router
from portal_servicekit.runtime import worker_app


def create_worker(service: Service | None = None) -> FastStream:
    service = service or bootstrap()
    return worker_app(service.runtime, build_router(service), prepare=service.prepare)


def main() -> None:
    asyncio.run(create_worker().run())


if __name__ == "__main__":
    main()
