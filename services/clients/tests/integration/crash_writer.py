"""Run by test_outbox_kill.py as a separate process: adds a client (state + event in one write),
says so, then hangs *before* relaying, until the test SIGKILLs it."""

from __future__ import annotations

import asyncio
import sys

from pymongo import AsyncMongoClient

from portal_clients.adapters.vies import SkippedRegister
from portal_clients.bootstrap import build_deps
from portal_clients.service.clients import ClientInput, create_client
from portal_clients.testing.samples import client_form
from portal_contracts.identity import Caller, Role


async def main(uri: str, database: str) -> None:
    mongo: AsyncMongoClient[dict] = AsyncMongoClient(uri, tz_aware=True)
    deps = build_deps(mongo[database], SkippedRegister())
    caller = Caller(office_id="office-a", user_id="crash", role=Role.ADMIN)
    client = await create_client(
        ClientInput(raw=client_form(900), skip_vat_check=True), caller, deps
    )
    print(client.client_id, flush=True)
    await asyncio.Event().wait()  # the relay would run next: it never gets the chance


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
