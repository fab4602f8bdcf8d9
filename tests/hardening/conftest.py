"""Every service's app, built once per run by :mod:`tests.hardening.apps`, shared by the tables."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.hardening.apps import environment
from tests.hardening.wire import Apps


@pytest.fixture(scope="session")
async def apps(kafka_bootstrap: str, mongodb_uri: str) -> AsyncIterator[Apps]:
    prefix = f"hardening_{uuid.uuid4().hex[:8]}"
    async with Apps(environment(kafka_bootstrap, mongodb_uri, prefix)) as running:
        yield running
