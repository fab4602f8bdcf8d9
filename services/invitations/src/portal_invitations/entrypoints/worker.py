"""The worker process: the Kafka consumers, the invitation sender and the outbox relay.

Run: ``python -m portal_invitations.entrypoints.worker``.
"""

from __future__ import annotations

import asyncio

from faststream import FastStream

from portal_invitations.bootstrap import Service, bootstrap
from portal_invitations.entrypoints.consumers import build_router
from portal_servicekit.runtime import worker_app


def create_worker(service: Service | None = None) -> FastStream:
    service = service or bootstrap()
    service.deps.notify = service.sender.wake  # a consumed change to send: no need to wait
    service.deps.store_new = service.sender.store_new  # imports: claimed in the insert
    app = worker_app(
        service.runtime,
        build_router(service),
        prepare=service.prepare,
        background=[service.sender],
    )
    app.after_shutdown(service.close)
    return app


def main() -> None:
    asyncio.run(create_worker().run())


if __name__ == "__main__":
    main()
