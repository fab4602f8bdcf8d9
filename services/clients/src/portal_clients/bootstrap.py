"""The composition root of the clients service: real adapters here, fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_clients.adapters.locks import Leases
from portal_clients.adapters.mongo_clients import MongoClients
from portal_clients.adapters.mongo_imports import MongoImports
from portal_clients.adapters.mongo_office import MongoGroups, MongoRechecks, MongoSettings
from portal_clients.adapters.relay import MarkerRelay, kafka_publisher
from portal_clients.adapters.vies import SkippedRegister, ViesRegister
from portal_clients.config import Settings
from portal_clients.ports import VatRegister
from portal_clients.service.deps import Deps
from portal_contracts.broker import build_broker
from portal_contracts.topics import Topics
from portal_servicekit.mongo import Document, connect


@dataclass
class ClientsService:
    settings: Settings
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    deps: Deps
    topics: Topics
    broker: KafkaBroker | None = None
    relay: MarkerRelay | None = None

    async def prepare(self) -> None:
        """Create indexes (idempotent); run at start-up by both processes."""
        clients = self.deps.clients
        groups = self.deps.groups
        if isinstance(clients, MongoClients):
            await clients.ensure_indexes()
        if isinstance(groups, MongoGroups):
            await groups.ensure_indexes()

    async def close(self) -> None:
        register = self.deps.register
        if isinstance(register, ViesRegister):
            await register.aclose()
        await self.mongo.close()


def build_deps(db: AsyncDatabase[Document], register: VatRegister) -> Deps:
    leases = Leases(db["locks"])
    return Deps(
        clients=MongoClients(db, leases=leases),
        groups=MongoGroups(db, leases),
        settings=MongoSettings(db, leases),
        register=register,
        rechecks=MongoRechecks(db),
        imports=MongoImports(db),
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    register: VatRegister | None = None,
    with_broker: bool = True,
) -> ClientsService:
    settings = settings or Settings()
    mongo = connect(settings.platform.mongodb_uri, app_name="clients")
    db = mongo[settings.database]
    if register is None:
        register = (
            ViesRegister(settings.vies_endpoint, settings.vies_timeout_s)
            if settings.vies_enabled
            else SkippedRegister()
        )
    topics = Topics(settings.platform.topic_prefix)
    service = ClientsService(
        settings=settings, mongo=mongo, db=db, deps=build_deps(db, register), topics=topics
    )
    if with_broker:
        service.broker = build_broker(
            settings.platform.kafka_bootstrap_servers, client_id="clients"
        )
        service.relay = MarkerRelay(db, kafka_publisher(service.broker, topics))
    return service
