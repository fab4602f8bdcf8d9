"""`python -m portal_clients.entrypoints.worker`: Kafka consumers, the outbox relay and the
re-checks of VAT numbers the register could not confirm."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream import FastStream

from portal_clients.bootstrap import ClientsService, bootstrap
from portal_clients.entrypoints.consumers import register
from portal_clients.service.events import recheck_pending_vat
from portal_servicekit.logs import configure_logging

logger = logging.getLogger(__name__)


class VatRechecker:
    """Asks the register again, in the background, about pending VAT checks that are due."""

    def __init__(self, service: ClientsService) -> None:
        self.service = service
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            batch = 50
            try:
                answered = await recheck_pending_vat(self.service.deps, limit=batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("VAT re-check pass failed; retrying")
                answered = 0
            if answered < batch:  # a full batch: more may be due, go on at once
                await asyncio.sleep(self.service.settings.recheck_interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="vat-rechecker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def build(service: ClientsService) -> FastStream:
    if service.broker is None or service.relay is None:
        raise RuntimeError("the worker needs a broker: bootstrap(with_broker=True)")
    register(service.broker, service.topics, service.deps, service.settings.consumer_group)
    relay, rechecker = service.relay, VatRechecker(service)

    async def started() -> None:
        relay.start()
        rechecker.start()

    async def stopping() -> None:
        await rechecker.stop()
        await relay.stop()

    return FastStream(
        service.broker,
        on_startup=[service.prepare],
        after_startup=[started],
        on_shutdown=[stopping],
    )


def main() -> None:
    configure_logging()
    asyncio.run(build(bootstrap()).run())


if __name__ == "__main__":
    main()
