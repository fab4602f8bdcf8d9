"""The composition root of the clients service: real adapters here, fakes in tests."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from portal_clients.adapters.client_list import ClientLists
from portal_clients.adapters.kbo_register import KboRegister, KboThenVies
from portal_clients.adapters.mongo_clients import MongoClients
from portal_clients.adapters.mongo_imports import MongoImports
from portal_clients.adapters.mongo_kbo import MongoKbo
from portal_clients.adapters.mongo_office import (
    MongoConnectionNames,
    MongoGroups,
    MongoProfiles,
    MongoSettings,
)
from portal_clients.adapters.quota import MongoQuota
from portal_clients.adapters.vies import SkippedRegister, ViesRegister
from portal_clients.config import Settings
from portal_clients.ports import VatRegister
from portal_clients.service.deps import Deps
from portal_servicekit.runtime import Runtime, open_runtime


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps
    kbo: MongoKbo | None = None

    async def prepare(self) -> None:
        """Create indexes (idempotent); run at start-up by both processes."""
        d = self.deps
        if self.kbo is not None:
            await self.kbo.prepare()
        for part in (d.clients, d.groups, d.imports, d.quota):
            if isinstance(part, MongoClients | MongoGroups | MongoImports | MongoQuota):
                await part.prepare()

    async def close(self) -> None:
        if isinstance(self.deps.register, ViesRegister | KboThenVies):
            await self.deps.register.aclose()
        if isinstance(self.deps.clients, MongoClients):
            await self.deps.clients.lists.close()
        await self.runtime.close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Service:
    """The service on its real adapters; ``overrides`` replace fields of Deps (a register,
    a clock...)."""
    settings = settings or Settings()
    runtime = open_runtime(
        "clients", settings.platform, settings.database, relay_poll_s=settings.relay_poll_s
    )
    db = runtime.db
    lists = ClientLists(db)
    clients = MongoClients(runtime, lists)
    kbo = MongoKbo(db)
    if "register" not in overrides:
        overrides["register"] = register_of(settings, kbo)
    deps = Deps(
        clients=clients,
        groups=MongoGroups(db),
        settings=MongoSettings(runtime),
        profiles=MongoProfiles(runtime),
        connections=MongoConnectionNames(db),
        imports=MongoImports(
            runtime, clients, lists, rows_per_transaction=settings.import_rows_per_transaction
        ),
        quota=MongoQuota(db, limit=settings.availability_per_hour, window=timedelta(hours=1)),
        register=overrides.pop("register"),
    )
    return Service(settings, runtime, dataclasses.replace(deps, **overrides), kbo)


def register_of(settings: Settings, kbo: MongoKbo) -> VatRegister:
    """The VAT register ``settings.vat_register`` names."""
    choice = settings.vat_register if settings.vies_enabled else "off"
    if choice == "off":
        return SkippedRegister()
    if choice == "kbo":
        return KboThenVies(KboRegister(kbo), None)
    vies = ViesRegister(settings.vies_endpoint, settings.vies_timeout_s)
    return vies if choice == "vies" else KboThenVies(KboRegister(kbo), vies)
