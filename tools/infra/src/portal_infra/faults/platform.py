"""The whole delivery path as processes, with the receiving side and the switches to break it.

A :class:`Platform` owns its Kafka (a second listener behind Toxiproxy, so a worker can be cut
from the broker) and its MongoDB-wire server, so a scenario may stop, pause or kill them; each
run (:meth:`Platform.run`) gets fresh databases and topics and starts, as `make up` would, the
clients, ubl and delivery APIs and workers. The receiving side lives in this process: an SMTP
server whose answers can be switched (accept, 4xx, down) and the local sFTP server (up/down).
A run may also start the remote channels' fakes as processes (the Graph fake for OneDrive, the
Clearfacts fake, both keeping what they receive under :attr:`Run.received`), their workers, and
several workers of one role in the same consumer group (``delivery-sftp.2``), on topics made with
as many partitions as asked (the fan-out benchmark, ``bench/bench_fanout.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal_contracts.broker import COMPACTED_TOPIC_CONFIG
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_infra import kafka, mongodb, toxiproxy
from portal_infra.process import free_port, spawn, stop_process

JWT_KEY = "fault-runs-signing-key-not-a-secret-0123456789"
OFFICE = "fault-office"
SFTP_PASSWORD = "fault-run-sftp-password-0042-must-never-leak"  # noqa: S105 - a test server's
SECRETS_KEY = "ZmF1bHQtcnVucy1rZXktbm90LWEtc2VjcmV0LTAwMDA"  # 32 bytes, base64url
DELIVERY_ROLES = ("planner", "scheduler", "email", "sftp")
ALL_DELIVERY_ROLES = (*DELIVERY_ROLES, "onedrive", "clearfacts")
# The Graph fake's one tenant and app, and the Clearfacts fake's token (test values).
GRAPH_TENANT = "00000000-0000-4000-8000-00000000fa01"
GRAPH_CLIENT_ID = "00000000-0000-4000-8000-00000000fa02"
GRAPH_DRIVE = "b!fault-drive"
GRAPH_SECRET = "fault-run-graph-client-secret-0001"  # noqa: S105 - the fake's
CLEARFACTS_TOKEN = "fault-run-clearfacts-token-".ljust(80, "0")  # the fake's (80 characters)


class Mailbox:
    """The SMTP side: stores every message; ``mode`` accept | defer (451) | down (not listening)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []  # (Message-ID, raw)
        self.received_at: list[float] = []  # time.time() of each message, in the same order
        self.mode = "accept"
        self.deferred = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "defer":
            self.deferred += 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        self.messages.append((str(parsed["Message-ID"]), raw))
        self.received_at.append(time.time())
        return f"250 2.0.0 queued as F{len(self.messages)}"


@dataclass
class Run:
    """One scenario's processes, on fresh databases and topics."""

    platform: Platform
    run_id: str
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)  # client id -> channel
    commands: dict[str, list[str]] = field(default_factory=dict)  # the fakes', by process name
    fake_ports: dict[str, int] = field(default_factory=dict)  # "graph", "clearfacts"
    channels: tuple[str, ...] = ("email", "sftp")  # the clients' channels, in turn

    @property
    def received(self) -> Path:
        """Where the fakes write what they receive: ``graph/<drive>/<path>``,
        ``clearfacts/<vat>/<uuid>-<name>``."""
        return self.logs / "received"

    def fake_url(self, fake: str) -> str:
        return f"http://127.0.0.1:{self.fake_ports[fake]}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, name: str) -> None:
        """Start (or restart) one process by its name: '<service>-api', '<service>-worker',
        'delivery-<role>' (a second worker of a role: 'delivery-<role>.2'), or a fake's."""
        env = dict(self.env)
        if name == f"delivery-{self.platform.cut_role}":  # reaches the broker through the proxy
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.platform.proxied_bootstrap
        if name in self.commands:
            command = self.commands[name]
        elif name.endswith("-api"):
            service = name.removesuffix("-api")
            port = self.ports.setdefault(service, free_port())
            command = [
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
            ]
        elif name.startswith("delivery-"):
            command = [
                "-m",
                "portal_delivery.entrypoints.worker",
                "--role",
                name.removeprefix("delivery-").partition(".")[0],
            ]
        else:
            command = ["-m", f"portal_{name.removesuffix('-worker')}.entrypoints.worker"]
        self.processes[name] = spawn([sys.executable, *command], self.logs / f"{name}.log", env=env)

    def start_command(self, name: str, command: list[str]) -> None:
        """Start a process of one's own under ``name`` (``python`` + ``command``, e.g. a pull
        agent); :meth:`start` restarts it, :meth:`stop` ends it with the others."""
        self.commands[name] = command
        self.start(name)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            stop_process(process, timeout=15)
        self.processes.clear()

    def token(self) -> str:
        return issue_token(
            Caller(office_id=OFFICE, user_id="fault-admin", role=Role.ADMIN), JWT_KEY
        )

    async def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient() as http:
            for service in self.ports:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (
                            await http.get(self.url(service) + "/readyz", timeout=3)
                        ).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{service} API not ready")
                    await asyncio.sleep(0.3)


@dataclass
class Platform:
    home: Path
    kafka_node: kafka.KafkaNode
    mongo_node: mongodb.MongoNode
    proxy: toxiproxy.Toxiproxy
    proxied_bootstrap: str
    kafka_process: subprocess.Popen[bytes] | None = None
    mongo_process: subprocess.Popen[bytes] | None = None
    mailbox: Mailbox = field(default_factory=Mailbox)
    smtp_port: int = 0
    sftp_port: int = 0
    cut_role: str = "email"  # the delivery role that talks to Kafka through the proxy
    _smtp: Any = None
    _sftp: Any = None
    _sftp_sessions: set[Any] = field(default_factory=set)

    @property
    def sftp_root(self) -> Path:
        return self.home / "sftp-root"

    # --- the servers, and breaking them ----------------------------------------------------------

    def start_kafka(self) -> None:
        self.kafka_process = kafka.start_and_wait(self.kafka_node)

    def stop_kafka(self) -> None:
        if self.kafka_process is not None:
            stop_process(self.kafka_process)
            self.kafka_process = None

    def pause_mongodb(self) -> None:
        assert self.mongo_process is not None  # noqa: S101
        os.kill(self.mongo_process.pid, signal.SIGSTOP)

    def resume_mongodb(self) -> None:
        assert self.mongo_process is not None  # noqa: S101
        os.kill(self.mongo_process.pid, signal.SIGCONT)

    async def smtp_up(self) -> None:
        loop = asyncio.get_running_loop()
        self._smtp = await loop.create_server(
            lambda: SMTP(self.mailbox, hostname="fault-relay"),
            host="127.0.0.1",
            port=self.smtp_port,
        )
        self.mailbox.mode = "accept"

    async def smtp_down(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()
            self._smtp = None

    async def sftp_up(self) -> None:
        from portal_delivery.entrypoints import sftp_server

        self._sftp = await sftp_server.serve(
            host="127.0.0.1",
            port=self.sftp_port,
            root=self.sftp_root,
            username="portal",
            password=SFTP_PASSWORD,
            key_path=self.home / "sftp_host_key",
            sessions=self._sftp_sessions,
        )

    async def sftp_down(self, *, drop_sessions: bool = False) -> None:
        """Stop accepting connections; ``drop_sessions``: close the open ones too (else a
        client's pooled session goes on working through the "outage")."""
        if self._sftp is not None:
            self._sftp.close()
            if drop_sessions:
                for conn in list(self._sftp_sessions):
                    conn.abort()
            with contextlib.suppress(Exception):
                await self._sftp.wait_closed()
            self._sftp = None

    def host_key(self) -> str:
        from portal_delivery.entrypoints import sftp_server

        return sftp_server.host_key_line(sftp_server.host_key(self.home / "sftp_host_key"))

    # --- a run -----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def run(
        self,
        name: str,
        *,
        roles: Sequence[str] = DELIVERY_ROLES,
        workers: Mapping[str, int] | None = None,
        clearfacts_vats: Sequence[str] = (),
        partitions: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Run]:
        """``roles``: the delivery roles started (with "onedrive" or "clearfacts", its fake
        too; ``clearfacts_vats``: the administrations its token may upload to); ``workers``:
        how many processes of a role (default 1); ``partitions``: the run's topics are made
        with that many before anything starts (else the broker's default, 3, on first use);
        ``env``: more environment for every process."""
        run_id = f"{name}-{uuid.uuid4().hex[:6]}"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_node.bootstrap,
            "MONGODB_URI": self.mongo_node.uri,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": f"faults.{run_id}.",
            "PORTAL_LOG_LEVEL": "INFO",
            "CLIENTS_DATABASE": f"f_{run_id}_clients",
            "CLIENTS_CONSUMER_GROUP": f"f-{run_id}-clients",
            "CLIENTS_VIES_ENABLED": "false",
            "UBL_DATABASE": f"f_{run_id}_ubl",
            "UBL_CONSUMER_GROUP": f"f-{run_id}-ubl",
            "DELIVERY_DATABASE": f"f_{run_id}_delivery",
            "DELIVERY_CONSUMER_GROUP": f"f-{run_id}-delivery",
            "DELIVERY_BLOB_DATABASE": f"f_{run_id}_ubl",
            "DELIVERY_SECRETS_KEY": SECRETS_KEY,
            "DELIVERY_SMTP_HOST": "127.0.0.1",
            "DELIVERY_SMTP_PORT": str(self.smtp_port),
            "DELIVERY_LEASE_S": "10",
            "DELIVERY_SCHEDULER_INTERVAL_S": "0.3",
            "DELIVERY_SMTP_TIMEOUT_S": "5",
            "DELIVERY_SFTP_TIMEOUT_S": "5",
            # Production's minutes of back-off and breaker pause, as seconds: a recovery is seen
            # within the scenario's settle time (the retry schedule itself is unit-tested).
            "DELIVERY_RETRY_BASE_S": "2",
            "DELIVERY_RETRY_CAP_S": "15",
            "DELIVERY_BREAKER_OPEN_S": "5",
            "DELIVERY_BREAKER_OPEN_MAX_S": "20",
            **(env or {}),
        }
        self.mailbox.messages.clear()
        self.mailbox.received_at.clear()
        for path in (
            sorted(self.sftp_root.rglob("*"), reverse=True) if self.sftp_root.exists() else []
        ):
            path.unlink() if path.is_file() else path.rmdir()
        logs = self.home / "logs" / run_id
        logs.mkdir(parents=True)
        run = Run(self, run_id, env, logs)
        if partitions is not None:
            await kafka_topics(
                self.kafka_node.bootstrap, Topics(env["PORTAL_TOPIC_PREFIX"]), partitions
            )
        fakes = _fakes(run, roles, clearfacts_vats)
        delivery = [
            f"delivery-{r}" + (f".{n}" if n > 1 else "")
            for r in roles
            for n in range(1, (workers or {}).get(r, 1) + 1)
        ]
        for process in (
            *fakes,
            "clients-api",
            "clients-worker",
            "ubl-api",
            "ubl-worker",
            "delivery-api",
            *delivery,
        ):
            run.start(process)
        try:
            await run.wait_ready()
            yield run
        finally:
            run.stop()


def connection_bodies(platform: Platform) -> dict[str, dict[str, Any]]:
    """The office's connection of each kind as the delivery API takes it, pointing at this
    platform's sFTP server and fakes (the fault runs and the fan-out bench make the same)."""
    return {
        "sftp": {
            "name": "Kantoor",
            "kind": "sftp",
            "settings": {
                "host": "127.0.0.1",
                "port": platform.sftp_port,
                "username": "portal",
                "host_key": platform.host_key(),
            },
            "secrets": {"password": SFTP_PASSWORD},
        },
        "onedrive": {
            "name": "m365",
            "kind": "onedrive",
            "settings": {
                "tenant_id": GRAPH_TENANT,
                "client_id": GRAPH_CLIENT_ID,
                "drive_id": GRAPH_DRIVE,
            },
            "secrets": {"client_secret": GRAPH_SECRET},
        },
        "clearfacts": {
            "name": "clearfacts",
            "kind": "clearfacts",
            "settings": {},
            "secrets": {"token": CLEARFACTS_TOKEN},
        },
        "agent": {"name": "agent", "kind": "agent", "settings": {}, "secrets": {}},
    }


def _fakes(run: Run, roles: Sequence[str], clearfacts_vats: Sequence[str]) -> list[str]:
    """The fakes the run's remote channels deliver to, as processes, and the workers' settings
    pointing at them."""
    started = []
    if "onedrive" in roles:
        port = run.fake_ports["graph"] = free_port()
        run.env |= {
            "DELIVERY_GRAPH_URL": f"http://127.0.0.1:{port}/v1.0",
            "DELIVERY_GRAPH_LOGIN_URL": f"http://127.0.0.1:{port}",
            "GRAPH_FAKE_CLIENT_SECRET": GRAPH_SECRET,
        }
        run.commands["graph-fake"] = [
            "-m", "portal_delivery.entrypoints.graph_fake", "--port", str(port),
            "--root", str(run.received / "graph"), "--tenant", GRAPH_TENANT,
            "--client-id", GRAPH_CLIENT_ID, "--drive", GRAPH_DRIVE,
        ]  # fmt: skip
        started.append("graph-fake")
    if "clearfacts" in roles:
        port = run.fake_ports["clearfacts"] = free_port()
        run.env |= {
            "DELIVERY_CLEARFACTS_URL": f"http://127.0.0.1:{port}/graphql",
            "CLEARFACTS_FAKE_TOKEN": CLEARFACTS_TOKEN,
        }
        run.commands["clearfacts-fake"] = [
            "-m", "portal_delivery.entrypoints.clearfacts_fake", "--port", str(port),
            "--root", str(run.received / "clearfacts"),
            *(a for vat in clearfacts_vats for a in ("--vat", vat)),
        ]  # fmt: skip
        started.append("clearfacts-fake")
    return started


async def kafka_topics(bootstrap: str, topics: Topics, partitions: int) -> None:
    """Make every topic of ``topics`` (and its dead-letter twin) with ``partitions``."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [n for t in topics.all() for n in (t, topics.dead_letter(t))]
        compacted = set(topics.compacted())
        await admin.create_topics(
            [
                NewTopic(
                    n,
                    num_partitions=partitions,
                    replication_factor=1,
                    topic_configs=COMPACTED_TOPIC_CONFIG if n in compacted else {},
                )
                for n in names
            ]
        )
    finally:
        await admin.close()


async def start_platform(home: Path) -> Platform:
    """Kafka (with a proxied listener), SecantusDB (durable: the runs kill and pause it),
    Toxiproxy, the SMTP and sFTP servers."""
    home.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start
    proxy = toxiproxy.start(home / "toxiproxy")
    listen, via = free_port(), free_port()
    node = kafka.new_node(home / "kafka")
    node.proxied = (listen, via)
    proxy.proxy("kafka", f"127.0.0.1:{listen}", listen_port=via)
    platform = Platform(
        home,
        node,
        mongodb.new_node(home / "mongodb", durable=True),
        proxy,
        f"127.0.0.1:{via}",
        smtp_port=free_port(),
        sftp_port=free_port(),
    )
    await asyncio.to_thread(platform.start_kafka)  # its readiness check runs its own loop
    platform.mongo_process = await asyncio.to_thread(mongodb.start_and_wait, platform.mongo_node)
    await platform.smtp_up()
    await platform.sftp_up()
    return platform


async def stop_platform(platform: Platform) -> None:
    await platform.smtp_down()
    await platform.sftp_down()
    with contextlib.suppress(Exception):
        platform.resume_mongodb()
    platform.stop_kafka()
    if platform.mongo_process is not None:
        stop_process(platform.mongo_process)
    platform.proxy.stop()
