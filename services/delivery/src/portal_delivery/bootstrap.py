"""The composition root of the delivery service: real adapters here, fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from portal_contracts.broker import build_broker
from portal_contracts.topics import Topics
from portal_delivery.adapters.mongo import MongoClientRoutes
from portal_delivery.config import Settings
from portal_servicekit.mongo import Document, connect


@dataclass
class Delivery:
    settings: Settings
    mongo: AsyncMongoClient[Document]
    broker: KafkaBroker
    topics: Topics
    routes: MongoClientRoutes


def bootstrap(settings: Settings | None = None) -> Delivery:
    settings = settings or Settings()
    mongo = connect(settings.platform.mongodb_uri, app_name="delivery")
    broker = build_broker(settings.platform.kafka_bootstrap_servers, client_id="delivery")
    return Delivery(
        settings=settings,
        mongo=mongo,
        broker=broker,
        topics=Topics(settings.platform.topic_prefix),
        routes=MongoClientRoutes(mongo[settings.database]),
    )
