"""The delivery API answers its probes against the real MongoDB-wire server."""

from __future__ import annotations

import httpx
import pytest

from portal_delivery.bootstrap import Service
from portal_delivery.entrypoints.http import create_app

pytestmark = pytest.mark.integration


async def test_health_and_readiness(service: Service) -> None:
    app = create_app(service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"mongodb": "ok"}
