"""Fixtures of the clients service tests: the service wired on the real MongoDB-wire server and
Kafka (one database and one topic prefix per test), a fake VIES server, an HTTP client on the
app, the worker, and tokens for callers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from portal_clients.adapters.vies import ViesRegister
from portal_clients.bootstrap import Service, bootstrap
from portal_clients.config import Settings
from portal_clients.entrypoints.http import create_app
from portal_clients.entrypoints.worker import create_worker
from portal_clients.testing.vies_fake import FakeVies
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_servicekit.settings import PlatformSettings

JWT_KEY = "clients-tests-signing-key-0123456789abcdef"

Headers = dict[str, str]


def make_settings(
    kafka: str, mongodb: str, database: str, topics: Topics, vies: str, **fields: Any
) -> Settings:
    platform = PlatformSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "MONGODB_URI": mongodb,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": topics.prefix,
        }
    )
    return Settings(
        platform=platform,
        database=database,
        vies_endpoint=vies,
        vies_timeout_s=1.0,
        relay_poll_s=0.05,
        **fields,
    )


@pytest.fixture
async def fake_vies() -> AsyncIterator[FakeVies]:
    async with FakeVies(slow_s=2.0).running() as vies:
        yield vies


@pytest.fixture
def settings(
    mongo_db: Any,
    mongodb_uri: str,
    kafka_bootstrap: str,
    topics: Topics,
    fake_vies: FakeVies,
    group_id: str,
) -> Settings:
    return make_settings(
        kafka_bootstrap,
        mongodb_uri,
        mongo_db.name,
        topics,
        fake_vies.endpoint,
        consumer_group=group_id,
    )


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    register = ViesRegister(settings.vies_endpoint, timeout_s=1.0)
    service = bootstrap(settings, register=register)
    await service.prepare()
    yield service
    await service.close()


@pytest.fixture
async def api(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clients") as client:
        yield client


@pytest.fixture
def auth() -> Callable[..., Headers]:
    def headers(
        office: str = "office-a",
        role: str = "admin",
        groups: tuple[str, ...] = (),
        user: str = "accountant-1",
        lang: str = "en",
    ) -> Headers:
        caller = Caller(
            office_id=office, user_id=user, role=Role(role), groups=groups, language=lang
        )
        return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}

    return headers


@pytest.fixture
async def worker(service: Service) -> AsyncIterator[Service]:
    """The worker (consumers, outbox relay, VAT re-checks) on the real Kafka, as in production."""
    app = create_worker(service)
    await app.start()
    yield service
    await app.stop()


@pytest.fixture
def read_topic(kafka_bootstrap: str):
    """Read ``count`` records of a topic from its beginning (bounded wait)."""
    import asyncio
    import json
    import uuid

    from aiokafka import AIOKafkaConsumer

    async def read(topic: str, count: int, timeout: float = 45.0) -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"reader-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        records: list[dict[str, Any]] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while len(records) < count and asyncio.get_running_loop().time() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for messages in batches.values():
                    for m in messages:
                        records.append(
                            {
                                "key": m.key.decode() if m.key else None,
                                "value": json.loads(m.value),
                                "headers": {k: v.decode() for k, v in m.headers},
                            }
                        )
        finally:
            await consumer.stop()
        return records

    return read
