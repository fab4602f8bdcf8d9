"""The one composition root: real adapters for the service, fakes for tests (pass them in)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.broker import build_broker, publish_encoded_event
from portal_contracts.imports import ImportValidated
from portal_contracts.topics import Topics
from portal_importer.adapters.clients_http import ClientsServiceHttp
from portal_importer.adapters.mongo import MongoImports
from portal_importer.config import Settings
from portal_importer.ports import ImportRepository, OfficeDirectory, PlatformAvailability
from portal_importer.service.engine import process_pool
from portal_importer.service.handlers import Importer
from portal_importer.service.publishing import Chunk
from portal_importer.service.relay import ImportRelay
from portal_servicekit.mongo import connect


@dataclass
class Bootstrapped:
    importer: Importer
    repository: ImportRepository
    topics: Topics
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    database: AsyncDatabase[dict[str, Any]] | None = None
    broker: KafkaBroker | None = None
    relay: ImportRelay | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def bootstrap(
    settings: Settings,
    *,
    database: AsyncDatabase[dict[str, Any]] | None = None,
    repository: ImportRepository | None = None,
    platform: PlatformAvailability | None = None,
    directory: OfficeDirectory | None = None,
    broker: KafkaBroker | None = None,
    with_broker: bool = False,
) -> Bootstrapped:
    mongo = None
    if repository is None:
        if database is None:
            mongo = connect(settings.platform.mongodb_uri, app_name="importer")
            database = mongo[settings.database]
        repository = MongoImports(database, chunk_rows=settings.chunk_rows)
    clients = ClientsServiceHttp(settings.clients_url, timeout_s=settings.clients_timeout_s)
    topics = Topics(settings.platform.topic_prefix)
    executor = (
        process_pool(settings.validation_workers) if settings.validation_workers > 1 else None
    )
    importer = Importer(
        repository=repository,
        platform=platform or clients,
        directory=directory or clients,
        executor=executor,
    )
    relay = None
    if with_broker or broker is not None:
        broker = broker or build_broker(
            settings.platform.kafka_bootstrap_servers, client_id="importer"
        )
        kafka = broker

        topic = topics.of(ImportValidated)

        async def publish(chunks: Sequence[Chunk]) -> None:
            # The bytes built and measured by build_chunks. All are queued, then every
            # acknowledgement awaited: one partition (the key), kept in order by the producer.
            acks = [
                await publish_encoded_event(
                    kafka,
                    topic,
                    chunk.body,
                    key=chunk.key,
                    event_id=str(chunk.event_id),
                    event_type=ImportValidated.EVENT_TYPE,
                    correlation_id=str(chunk.correlation_id),
                    no_confirm=True,
                )
                for chunk in chunks
            ]
            await asyncio.gather(*acks)

        relay = ImportRelay(
            repository,
            publish,
            poll_interval_s=settings.publish_poll_s,
            sweep_interval_s=settings.publish_sweep_s,
        )
        importer.wake_publisher = relay.wake
    return Bootstrapped(importer, repository, topics, mongo, database, broker, relay)
