"""The composition root: real adapters for the running service; tests reuse :func:`wire`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.broker import build_broker
from portal_contracts.topics import Topics
from portal_servicekit.mongo import connect
from portal_ubl.adapters.gridfs_store import GridFsBlobStore
from portal_ubl.adapters.mongo import MongoClients, MongoDocuments
from portal_ubl.adapters.outbox import DocumentOutbox
from portal_ubl.config import Settings
from portal_ubl.service.handlers import Dependencies


@dataclass
class Service:
    deps: Dependencies
    client: AsyncMongoClient[dict[str, Any]] | None
    broker: KafkaBroker
    topics: Topics
    settings: Settings


async def wire(
    db: AsyncDatabase[dict[str, Any]], broker: KafkaBroker, topics: Topics, bucket: str = "blobs"
) -> Dependencies:
    blobs = GridFsBlobStore(db, bucket)
    documents = MongoDocuments(db)
    await blobs.ensure_indexes()
    await documents.ensure_indexes()
    return Dependencies(
        blobs=blobs,
        documents=documents,
        clients=MongoClients(db),
        relay=DocumentOutbox(broker, topics, documents.collection),
    )


async def bootstrap(settings: Settings | None = None, broker: KafkaBroker | None = None) -> Service:
    settings = settings or Settings()
    platform = settings.platform()
    client = connect(platform.mongodb_uri, app_name="portal-ubl")
    broker = broker or build_broker(platform.kafka_bootstrap_servers, client_id="portal-ubl")
    topics = Topics(platform.topic_prefix)
    deps = await wire(client[settings.database], broker, topics, settings.blob_bucket)
    return Service(deps, client, broker, topics, settings)
