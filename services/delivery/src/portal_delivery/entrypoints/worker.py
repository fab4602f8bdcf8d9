"""`python -m portal_delivery.entrypoints.worker`: the Kafka consumers of the delivery service."""

from __future__ import annotations

import asyncio

from faststream import FastStream

from portal_delivery.bootstrap import bootstrap
from portal_delivery.entrypoints.consumers import register
from portal_servicekit.logs import configure_logging


def main() -> None:
    configure_logging()
    app = bootstrap()
    register(app)

    async def prepare() -> None:
        await app.routes.ensure_indexes()

    stream = FastStream(app.broker, on_startup=[prepare])
    asyncio.run(stream.run())


if __name__ == "__main__":
    main()
