"""The worker process: client-settings consumers and the outbox relay, on one broker.

Run with ``faststream run portal_ubl.entrypoints.worker:app`` (or ``python -m``).
"""

from __future__ import annotations

import asyncio
import contextlib

from faststream import FastStream

from portal_servicekit.logs import configure_logging
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.entrypoints.consumers import build_router


def create_worker() -> FastStream:
    from portal_contracts.broker import build_broker
    from portal_contracts.topics import Topics
    from portal_ubl.config import Settings

    settings = Settings()
    platform = settings.platform()
    broker = build_broker(platform.kafka_bootstrap_servers, client_id="portal-ubl-worker")
    topics = Topics(platform.topic_prefix)
    state: dict[str, Service] = {}
    broker.include_router(build_router(topics, lambda: state["service"].deps))
    app = FastStream(broker)
    tasks: list[asyncio.Task[None]] = []

    @app.on_startup
    async def start() -> None:
        state["service"] = await bootstrap(settings, broker)

    @app.after_startup
    async def relay() -> None:
        async def loop() -> None:
            while True:
                with contextlib.suppress(Exception):
                    await state["service"].deps.relay.flush()
                await asyncio.sleep(settings.relay_interval_s)

        tasks.append(asyncio.create_task(loop()))

    @app.on_shutdown
    async def stop() -> None:
        for task in tasks:
            task.cancel()

    return app


def __getattr__(name: str) -> FastStream:
    if name == "app":
        worker = create_worker()
        globals()["app"] = worker
        return worker
    raise AttributeError(name)


if __name__ == "__main__":
    configure_logging()
    asyncio.run(create_worker().run())
