"""The worker process: Kafka consumers, the invitation sender and the outbox relay.

Run: ``python -m portal_invitations.entrypoints.worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from faststream.kafka import KafkaBroker

from portal_contracts.broker import build_broker
from portal_invitations.adapters.outbox_relay import OutboxRelay, publisher
from portal_invitations.bootstrap import Service, bootstrap
from portal_invitations.config import Settings
from portal_invitations.entrypoints.consumers import build_router, dead_letters
from portal_servicekit.logs import configure_logging

logger = logging.getLogger(__name__)
_PRUNE_EVERY_S = 600.0
_RESTORE_EVERY_S = 60.0


class Worker:
    def __init__(self, service: Service, broker: KafkaBroker | None = None) -> None:
        settings = service.settings
        self.service = service
        self.broker = broker or build_broker(
            settings.platform.kafka_bootstrap_servers, client_id="portal-invitations-worker"
        )
        self.broker.include_router(
            build_router(
                service.topics, settings.consumer_group, service.deps, dead_letters(self.broker)
            )
        )
        self.relay = OutboxRelay(
            self.broker, service.topics, service.store.outbox, service.store.locks
        )
        service.store.publisher = publisher(self.broker, service.topics)
        service.deps.notify = self._notify
        # New clients are stored by the sender, which claims their invitations in the insert.
        service.deps.store_new = service.sender.store_new
        self._chores: list[asyncio.Task[None]] = []

    def _notify(self) -> None:
        self.relay.wake()
        self.service.sender.wake()

    async def start(self) -> None:
        await self.service.prepare()
        await self.broker.start()
        self.relay.start()
        self.service.sender.start()
        self._chores = [
            asyncio.create_task(self._prune_guesses(), name="prune-accept-guesses"),
            asyncio.create_task(self._restore_side_entries(), name="restore-side-entries"),
        ]

    async def stop(self) -> None:
        for chore in self._chores:
            chore.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chore
        await self.service.sender.stop()
        await self.relay.stop()
        await self.broker.stop()

    async def _restore_side_entries(self) -> None:
        """After a crash between a document write and its queue entry (see access_store)."""
        while True:
            try:
                restored = await self.service.store.restore_side_entries()
            except Exception:
                logger.exception("restoring send-queue entries and outbox hints failed")
            else:
                if restored:
                    logger.warning("restored %d missing send-queue entries", restored)
                    self._notify()
            await asyncio.sleep(_RESTORE_EVERY_S)

    async def _prune_guesses(self) -> None:
        window = timedelta(seconds=self.service.settings.accept_window_s)
        while True:
            await asyncio.sleep(_PRUNE_EVERY_S)
            with contextlib.suppress(Exception):
                now = self.service.deps.clock.now()
                await self.service.guesses.forget_before(now - 2 * window)


async def main() -> None:
    configure_logging()
    service = bootstrap(Settings())
    worker = Worker(service)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await worker.start()
    logger.info("invitations worker started")
    try:
        await stopping.wait()
    finally:
        await worker.stop()
        await service.close()


if __name__ == "__main__":
    asyncio.run(main())
