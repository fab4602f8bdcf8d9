"""The UBL service wired on the real Kafka and MongoDB-wire server: one database and one topic
prefix per test, the same ``bootstrap`` production uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from portal_contracts.topics import Topics
from portal_ubl.bootstrap import Service, bootstrap
from services.ubl.tests.fakes import settings

MakeService = Callable[..., Service]


@pytest.fixture
async def make_service(
    mongo_db: Any, mongodb_uri: str, kafka_bootstrap: str, topics: Topics, group_id: str
) -> AsyncIterator[MakeService]:
    """Services on this test's database; ``kafka=`` names another broker (one that is down)."""
    made: list[Service] = []

    def make(kafka: str = kafka_bootstrap, **overrides: Any) -> Service:
        service = bootstrap(
            settings(
                kafka,
                mongodb_uri,
                topics.prefix,
                database=mongo_db.name,
                consumer_group=group_id,
                relay_poll_s=0.2,
            ),
            **overrides,
        )
        made.append(service)
        return service

    yield make
    for service in made:
        await service.close()


@pytest.fixture
async def service(make_service: MakeService) -> Service:
    service = make_service()
    await service.prepare()
    return service
