"""The shape every service's composition root has: one :class:`Runtime` (database, broker, topics,
outbox and its relay) built by :func:`open_runtime`, and one worker built by :func:`worker_app`.

Each service's ``bootstrap.py`` opens a Runtime, wires its adapters into the dependencies its
handlers take, and returns ``Service(runtime, deps)``; its ``entrypoints/worker.py`` is
``worker_app(service.runtime, build_router(service), prepare=service.prepare, background=…)`` and
its ``entrypoints/http.py`` is ``create_app(service)``. Tests build the same Service with fakes
or with the real servers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.broker import build_broker
from portal_contracts.topics import Topics
from portal_servicekit.logs import configure_logging
from portal_servicekit.mongo import Document, Session, connect, in_transaction
from portal_servicekit.outbox import Outbox, OutboxRelay
from portal_servicekit.settings import PlatformSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Background(Protocol):
    """A loop a worker runs beside its consumers (the relay, a scheduler, a sender)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    name: str
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    topics: Topics
    broker: KafkaBroker
    outbox: Outbox
    relay: OutboxRelay

    async def transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction (retried on conflicts), then wake the relay."""
        result = await in_transaction(self.mongo, work)
        self.relay.wake()
        return result

    async def close(self) -> None:
        await self.mongo.close()


def open_runtime(
    name: str,
    platform: PlatformSettings,
    database: str,
    *,
    broker: KafkaBroker | None = None,
    relay_poll_s: float = 0.5,
) -> Runtime:
    """Connections are opened lazily by the drivers; nothing here waits for a server."""
    mongo = connect(platform.mongodb_uri, app_name=name)
    db = mongo[database]
    topics = Topics(platform.topic_prefix)
    broker = broker or build_broker(platform.kafka_bootstrap_servers, client_id=name)
    relay = OutboxRelay(broker, topics, db, name=name, poll_interval_s=relay_poll_s)
    return Runtime(name, mongo, db, topics, broker, Outbox(db), relay)


def worker_app(
    runtime: Runtime,
    router: KafkaRouter,
    *,
    prepare: Callable[[], Awaitable[None]],
    background: Sequence[Background] = (),
) -> FastStream:
    """The worker of a service: its consumers, its outbox relay and its background loops.

    Start-up: ``prepare`` (indexes), the broker connects, then the relay and the loops start
    (before the consumers have joined their groups, which takes seconds). Shut-down stops them
    in reverse order and closes the database client last.
    """
    configure_logging()
    runtime.broker.include_router(router)
    loops: list[Background] = [runtime.relay, *background]

    async def started() -> None:
        for loop in loops:
            loop.start()

    async def stopping() -> None:
        for loop in reversed(loops):
            await loop.stop()

    return FastStream(
        runtime.broker,
        on_startup=[prepare],
        after_startup=[started],
        on_shutdown=[stopping],
        after_shutdown=[runtime.close],
    )
