"""Browser tests: the whole stack as `make up` runs it (gateway, portal, sign-in, every service
and worker, the SMTP catcher) on the real Kafka and MongoDB-wire server, and Debian's Chromium
driven by Playwright (``executable_path``: no browser download). Screenshots of every page land
in ``$PORTAL_SCREENSHOTS`` (default ``.data/screenshots/``), kept as the run's artefacts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal_infra.process import free_port, project_root

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICES = ("clients", "importer", "invitations", "ubl", "delivery")


@dataclass
class Portal:
    url: str
    data: Path
    env: dict[str, str]
    shots: Path

    @property
    def mail(self) -> Path:
        return self.data / "mail"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is missing: `make browser-deps` (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def portal(kafka_bootstrap: str, mongodb_uri: str) -> Iterator[Portal]:
    prefix = f"browser_{uuid.uuid4().hex[:8]}"
    data = Path(tempfile.mkdtemp(prefix="portal-browser-"))
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MONGODB_URI": mongodb_uri}
    env.update(
        PORTAL_DATA_DIR=str(data),
        PORTAL_TOPIC_PREFIX=f"{prefix}.",
        CLIENTS_VIES_ENABLED="false",
        INVITATIONS_SEND_POLL_INTERVAL_S="0.5",
        INVITATIONS_SEND_IDLE_MAX_S="1",
    )
    for name in ("gateway", *SERVICES, "portal", "signin"):
        env[f"{name.upper()}_HTTP_PORT"] = str(free_port())
    env["SMTP_CATCHER_PORT"] = str(free_port())
    env["SFTP_SERVER_PORT"] = str(free_port())
    for service in SERVICES:
        env[f"{service.upper()}_DATABASE"] = f"{prefix}_{service}"
        env[f"{service.upper()}_CONSUMER_GROUP"] = f"{prefix}-{service}"
    env.pop("PORTAL_JWT_KEY", None)
    command = [sys.executable, "-m", "portal_infra.stack"]
    started = subprocess.run(
        [*command, "up", "--detach"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    url = f"http://127.0.0.1:{env['GATEWAY_HTTP_PORT']}/"
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS", project_root() / ".data" / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        assert url in started.stdout, started.stdout + started.stderr
        yield Portal(url.rstrip("/"), data, env, shots)
    finally:
        subprocess.run([*command, "down"], env=env, capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    # Playwright starts Chromium with a fresh, empty --user-data-dir of its own (it refuses one
    # in args); the other flags are the machine's "known to work" set.
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS[1:]
        )
        yield launched
        await launched.close()
