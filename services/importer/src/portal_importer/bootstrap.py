"""The one composition root: the real adapters, or the fakes a test passes in (``overrides``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

from portal_importer.adapters.clients_http import ClientsServiceHttp
from portal_importer.adapters.mongo import MongoImports, ensure_indexes
from portal_importer.adapters.xlsx_package import ReadLimits
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.config import Settings
from portal_importer.service.deps import Deps
from portal_importer.service.engine import process_pool
from portal_servicekit.runtime import Runtime, open_runtime


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps

    async def prepare(self) -> None:
        """Indexes (idempotent)."""
        await ensure_indexes(self.runtime)

    async def close(self) -> None:
        if self.deps.executor is not None:
            self.deps.executor.shutdown(wait=False, cancel_futures=True)
        await self.runtime.close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Service:
    """``overrides``: ``runtime``/``broker`` for the Runtime, any field of Deps for the rest."""
    settings = settings or Settings()
    runtime = overrides.pop("runtime", None) or open_runtime(
        "importer", settings.platform, settings.database, broker=overrides.pop("broker", None)
    )
    clients = ClientsServiceHttp(
        settings.clients_url,
        timeout_s=settings.clients_timeout_s,
        page_values=settings.availability_page_values,
        in_flight=settings.availability_in_flight,
    )
    workers = settings.validation_workers
    if "executor" not in overrides:
        overrides["executor"] = process_pool(workers) if workers > 1 else None
    deps = Deps(
        imports=MongoImports(
            runtime,
            transaction_bytes=settings.confirm_transaction_bytes,
            resume_after=timedelta(seconds=settings.resume_after_s),
        ),
        platform=clients,
        directory=clients,
        read_workbook=partial(read_workbook, limits=ReadLimits(settings.max_upload_bytes)),
    )
    return Service(settings, runtime, replace(deps, **overrides))
