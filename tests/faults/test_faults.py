"""One short scenario of each fault: documents flow through clients, ubl and delivery as
processes while the fault strikes; after recovery nothing accepted is lost, nothing is sent twice,
nothing is stuck, no ``.part`` is left and no secret is in a log (portal_infra.faults).

`uv run python bench/faults.py --runs 50` repeats randomised scenarios and prints a table.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portal_infra.faults.platform import Platform, start_platform, stop_platform
from portal_infra.faults.scenarios import FAULTS, scenario

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.timeout(600)]

DOCUMENTS = 30


@pytest.fixture(scope="module")
async def platform() -> AsyncIterator[Platform]:
    home = Path(tempfile.mkdtemp(prefix="portal-faults-"))
    started = await start_platform(home)
    yield started
    await stop_platform(started)


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_nothing_is_lost_or_sent_twice(platform: Platform, fault: str) -> None:
    outcome = await scenario(platform, fault, documents=DOCUMENTS, seed=7)
    assert outcome.accepted >= DOCUMENTS * 0.8, outcome  # the API took (nearly) all of them
    assert outcome.ok, outcome
    assert outcome.delivered == outcome.accepted, outcome
