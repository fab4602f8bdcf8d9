"""The delivery API answers its probes against the real MongoDB-wire server."""

from __future__ import annotations

import httpx
import pytest

from portal_delivery.bootstrap import bootstrap
from portal_delivery.config import Settings
from portal_delivery.entrypoints.http import create_app
from portal_servicekit.settings import PlatformSettings

pytestmark = pytest.mark.integration


async def test_health_and_readiness(
    kafka_bootstrap: str, mongodb_uri: str, database_name: str
) -> None:
    platform = PlatformSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, MONGODB_URI=mongodb_uri, PORTAL_JWT_KEY="x" * 32
    )
    service = bootstrap(Settings(platform=platform, database=database_name))
    app = create_app(service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"mongodb": "ok"}
    await service.close()
