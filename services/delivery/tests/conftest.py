"""Fixtures of the delivery tests: the service on the real Kafka and MongoDB-wire server, a real
sFTP server (asyncssh) and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.bootstrap import Service, bootstrap
from portal_delivery.config import Settings
from portal_delivery.entrypoints import sftp_server
from portal_infra.process import free_port
from portal_infra.pytest_plugin import discard_database
from portal_servicekit.settings import PlatformSettings

SECRETS_KEY = new_key_text()
JWT_KEY = "delivery-tests-key-not-a-secret-0123456789"


def settings_for(
    kafka_bootstrap: str, mongodb_uri: str, database: str, prefix: str, **changes: object
) -> Settings:
    platform = PlatformSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        MONGODB_URI=mongodb_uri,
        PORTAL_JWT_KEY=JWT_KEY,
        PORTAL_TOPIC_PREFIX=prefix,
    )
    values: dict[str, object] = {
        "platform": platform,
        "database": database,
        "blob_database": f"{database}_blobs",
        "secrets_key": SECRETS_KEY,
        "consumer_group": f"delivery-{database}",
        "lease_s": 5,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def service(
    kafka_bootstrap: str, mongodb_uri: str, database_name: str, topics: object
) -> AsyncIterator[Service]:
    built = bootstrap(
        settings_for(kafka_bootstrap, mongodb_uri, database_name, topics.prefix)  # type: ignore[attr-defined]
    )
    await built.prepare()
    yield built
    for name in (database_name, f"{database_name}_blobs"):
        await discard_database(built.runtime.mongo, name)
    await built.close()


@dataclass
class SftpServer:
    port: int
    root: Path
    host_key: str
    username: str = "portal"
    password: str = "sftp-test-password-0042"
    acceptor: object | None = None
    key_path: Path = field(default_factory=Path)

    async def start(self, *, posix_rename: bool = True, slow_writes_s: float = 0.0) -> None:
        self.acceptor = await sftp_server.serve(
            host="127.0.0.1",
            port=self.port,
            root=self.root,
            username=self.username,
            password=self.password,
            key_path=self.key_path,
            posix_rename=posix_rename,
            slow_writes_s=slow_writes_s,
        )

    async def stop(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()  # type: ignore[attr-defined]
            await self.acceptor.wait_closed()  # type: ignore[attr-defined]
            self.acceptor = None

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


@pytest.fixture
async def sftp(tmp_path: Path) -> AsyncIterator[SftpServer]:
    key_path = tmp_path / "host_key"
    line = sftp_server.host_key_line(sftp_server.host_key(key_path))
    server = SftpServer(free_port(), tmp_path / "root", line, key_path=key_path)
    await server.start()
    yield server
    await server.stop()


class Mailbox:
    """An aiosmtpd handler that answers the codes it is told to, in turn, then 250."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.messages.append(envelope)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages):04d}"


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="test-relay"), host="127.0.0.1", port=port
    )
    yield SmtpServer(port, mailbox)
    server.close()
    await server.wait_closed()


# --- the remote APIs' local fakes (in this event loop) ----------------------------------------

GRAPH_TENANT = "11111111-2222-3333-4444-555555555555"
GRAPH_CLIENT = "66666666-7777-8888-9999-000000000000"
GRAPH_SECRET = "graph-client-secret-never-shown-5521"
GRAPH_DRIVE = "b!drive-of-the-office"
CLEARFACTS_TOKEN = "cf-token-" + "k" * 71  # 80 characters, as Clearfacts makes them
CLEARFACTS_VAT = "0403170701"


@dataclass
class GraphServer:
    fake: Any
    url: str
    login_url: str


@pytest.fixture
async def graph() -> AsyncIterator[GraphServer]:
    from portal_delivery.entrypoints.graph_fake import GraphFake, start

    fake = GraphFake(clients={GRAPH_TENANT: (GRAPH_CLIENT, GRAPH_SECRET)}, drives=(GRAPH_DRIVE,))
    server = await start(fake)
    yield GraphServer(fake, f"http://127.0.0.1:{fake.port}/v1.0", f"http://127.0.0.1:{fake.port}")
    server.close()
    await server.wait_closed()


@dataclass
class ClearfactsServer:
    fake: Any
    url: str


@pytest.fixture
async def clearfacts() -> AsyncIterator[ClearfactsServer]:
    from portal_delivery.entrypoints.clearfacts_fake import ClearfactsFake, start

    fake = ClearfactsFake(tokens={CLEARFACTS_TOKEN: {CLEARFACTS_VAT}})
    server = await start(fake)
    yield ClearfactsServer(fake, f"http://127.0.0.1:{fake.port}/graphql")
    server.close()
    await server.wait_closed()
