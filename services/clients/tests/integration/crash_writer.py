"""Run by test_outbox_kill.py as a separate process: adds a client (the client and its event in
one transaction), says so, then hangs *before* any relay runs, until the test SIGKILLs it."""

from __future__ import annotations

import asyncio
import sys

from portal_clients.adapters.vies import SkippedRegister
from portal_clients.bootstrap import bootstrap
from portal_clients.config import Settings
from portal_clients.service.clients import ClientInput, create_client
from portal_clients.testing.samples import client_form
from portal_contracts.identity import Caller, Role
from portal_servicekit.settings import PlatformSettings


async def main(uri: str, database: str) -> None:
    platform = PlatformSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",  # never used: this process does not relay
            "MONGODB_URI": uri,
            "PORTAL_JWT_KEY": "crash-writer-signing-key-0123456789abcdef",
        }
    )
    service = bootstrap(Settings(platform=platform, database=database), register=SkippedRegister())
    caller = Caller(office_id="office-a", user_id="crash", role=Role.ADMIN)
    client = await create_client(
        ClientInput(raw=client_form(900), skip_vat_check=True), caller, service.deps
    )
    print(client.client_id, flush=True)
    await asyncio.Event().wait()  # the relay would run next: it never gets the chance


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
