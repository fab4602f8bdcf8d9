"""Importer test fixtures: the service bootstrapped on the real Kafka and MongoDB-wire server
(its own database and topic prefix), the clients service faked over HTTP (tests/fakes.py), the
API in process, and bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_contracts.values import Language
from portal_importer.bootstrap import Service, bootstrap
from portal_importer.config import Settings
from portal_importer.entrypoints.http import create_app
from portal_servicekit.settings import PlatformSettings
from services.importer.tests.fakes import FakeClientsService, clients_service_running

JWT_KEY = "importer-tests-key-0123456789-abcdefghij"


@pytest.fixture
def clients_service() -> Iterator[FakeClientsService]:
    with clients_service_running() as fake:
        yield fake


@pytest.fixture
def importer_settings(
    clients_service: FakeClientsService,
    mongodb_uri: str,
    kafka_bootstrap: str,
    topics: Topics,
    database_name: str,
    group_id: str,
) -> Settings:
    platform = PlatformSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MONGODB_URI": mongodb_uri,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": topics.prefix,
        }
    )
    return Settings(
        platform=platform,
        clients_url=clients_service.url,
        database=database_name,
        consumer_group=group_id,
    )


@pytest.fixture
async def service(importer_settings: Settings, mongo_db: Any) -> AsyncIterator[Service]:
    """The importer on the test's own database (``mongo_db`` drops it afterwards)."""
    built = bootstrap(importer_settings)
    await built.prepare()
    yield built
    await built.close()


@pytest.fixture
async def api(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://importer", timeout=120
    ) as client:
        yield client


@pytest.fixture
def auth() -> Callable[..., dict[str, str]]:
    def headers(
        office: str = "office-a",
        *,
        language: str = "fr",
        user: str = "u-1",
        role: Role = Role.ADMIN,
    ) -> dict[str, str]:
        caller = Caller(office_id=office, user_id=user, role=role, language=Language(language))
        return {"authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}

    return headers
