"""End-to-end harness: the real service processes (APIs and workers, as `make up` runs them) on
the real Kafka and MongoDB-wire server, isolated per test by a topic prefix and their own databases.

Tests drive them over HTTP like the portal does, read events from the real broker, and may
SIGKILL and restart a process to check that nothing is lost and nothing happens twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_infra.process import free_port, spawn, stop_process

JWT_KEY = "end-to-end-tests-signing-key-0123456789"


@dataclass
class Stack:
    """The processes of one test; ``url(service)`` is its API."""

    env: dict[str, str]
    topics: Topics
    logs: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_api(self, service: str) -> None:
        port = self.ports.setdefault(service, free_port())
        self._spawn(
            f"{service}-api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"portal_{service}.entrypoints.http:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
        )

    def start_worker(self, service: str) -> None:
        self._spawn(
            f"{service}-worker", [sys.executable, "-m", f"portal_{service}.entrypoints.worker"]
        )

    def start_mail_catcher(self, mail_dir: Path) -> int:
        """The SMTP catcher invitations send to (its .eml files in ``mail_dir``); its port."""
        port = free_port()
        module = "portal_invitations.entrypoints.mail_catcher"
        self._spawn(
            "smtp-catcher", ["python", "-m", module, "--port", str(port), "--dir", str(mail_dir)]
        )
        self.env.update(
            {
                "INVITATIONS_SMTP_HOST": "127.0.0.1",
                "INVITATIONS_SMTP_PORT": str(port),
                "INVITATIONS_SEND_POLL_INTERVAL_S": "0.2",
                "INVITATIONS_ACCEPT_URL": "https://app.example.test/invitation?token={token}",
            }
        )
        return port

    def _spawn(self, name: str, command: list[str]) -> None:
        self.processes[name] = spawn(command, self.logs / f"{name}.log", env=self.env)

    def kill(self, name: str) -> None:
        """SIGKILL: no graceful shutdown, as a crash."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            stop_process(process, timeout=10)
        self.processes.clear()

    def log_tail(self) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    async def wait_healthy(self, service: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                process = self.processes.get(f"{service}-api")
                if process is not None and process.poll() is not None:
                    raise AssertionError(f"{service} API exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        await client.get(self.url(service) + "/readyz", timeout=2)
                    ).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise AssertionError(f"{service} API not ready in {timeout_s}s:\n{self.log_tail()}")


@pytest.fixture
def stack(
    kafka_bootstrap: str, mongodb_uri: str, topics: Topics, test_id: str, tmp_path: Path
) -> Iterator[Stack]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONGODB_URI": mongodb_uri,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": topics.prefix,
        "CLIENTS_DATABASE": f"e2e_{test_id}_clients",
        "CLIENTS_VIES_ENABLED": "false",
        "CLIENTS_CONSUMER_GROUP": f"e2e-{test_id}-clients",
        "IMPORTER_DATABASE": f"e2e_{test_id}_importer",
        "INVITATIONS_DATABASE": f"e2e_{test_id}_invitations",
        "INVITATIONS_CONSUMER_GROUP": f"e2e-{test_id}-invitations",
        "UBL_DATABASE": f"e2e_{test_id}_ubl",
        "DELIVERY_DATABASE": f"e2e_{test_id}_delivery",
        "DELIVERY_CONSUMER_GROUP": f"e2e-{test_id}-delivery",
    }
    running = Stack(env=env, topics=topics, logs=tmp_path / "logs")
    running.logs.mkdir()
    try:
        yield running
    finally:
        running.stop_all()


def bearer(
    office_id: str, *, role: Role = Role.ADMIN, groups: tuple[str, ...] = (), language: str = "fr"
) -> dict[str, str]:
    caller = Caller(
        office_id=office_id,
        user_id=f"accountant-{office_id}",
        role=role,
        groups=groups,
        language=language,
    )  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


async def read_events(
    bootstrap: str, topic: str, *, at_least: int, timeout_s: float = 60, settle_s: float = 2.0
) -> list[dict[str, Any]]:
    """Every event on ``topic`` (from the start), once ``at_least`` arrived and it settled."""
    import json

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    events: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            got = [json.loads(r.value) for records in batch.values() for r in records]
            events.extend(got)
            if got:
                quiet_since = time.monotonic()
            if len(events) >= at_least and time.monotonic() - quiet_since >= settle_s:
                break
    finally:
        await consumer.stop()
    return events


async def poll(check: Any, *, timeout_s: float, what: str, stack: Stack | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.5)
    detail = stack.log_tail() if stack else ""
    raise AssertionError(
        f"timed out after {timeout_s}s waiting for {what} (last: {last!r})\n{detail}"
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
