"""The composition root: one Runtime (database, broker, outbox, relay) and the adapters the
handlers use. The API, the worker and the tests build the same :class:`Service`; tests replace
dependencies by name (``bootstrap(settings, documents=FakeDocuments())``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from portal_servicekit.runtime import Runtime, open_runtime
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.gridfs_store import GridFsBlobStore
from portal_ubl.adapters.mongo import MongoClients, MongoDocuments, ensure_indexes
from portal_ubl.config import Settings
from portal_ubl.service.deps import Deps


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps

    async def prepare(self) -> None:
        """Create the indexes (idempotent; the API and the worker both call it)."""
        await ensure_indexes(self.runtime.db, self.settings.blob_bucket)

    async def close(self) -> None:
        await self.runtime.close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Service:
    """Nothing here waits for a server: the drivers connect on first use."""
    settings = settings or Settings()
    runtime = open_runtime(
        "portal-ubl", settings.platform, settings.database, relay_poll_s=settings.relay_poll_s
    )
    deps = Deps(
        blobs=GridFsBlobStore(runtime.db, settings.blob_bucket),
        documents=MongoDocuments(runtime),
        clients=MongoClients(runtime),
        convert=convert,
    )
    return Service(settings, runtime, dataclasses.replace(deps, **overrides))
