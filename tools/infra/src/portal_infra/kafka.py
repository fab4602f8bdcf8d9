"""A single-node Apache Kafka (KRaft, broker + controller) from Maven Central jars and Java 17."""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from portal_infra.process import (
    cache_dir,
    fingerprint,
    free_port,
    port_is_free,
    project_root,
    require_tool,
    spawn,
    wait_until_answers,
)

JVM_OPTS = [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
]
READY_TIMEOUT_S = 90.0


def kafka_libs() -> Path:
    """Resolve the broker's jars once (cached by the pom's hash)."""
    pom = project_root() / "tools" / "kafka" / "pom.xml"
    target = cache_dir() / f"kafka-libs-{fingerprint([pom])}"
    marker = target / ".complete"
    if marker.exists():
        return target
    mvn = require_tool("mvn")
    require_tool("java")
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={target}",
        ],
        check=True,
    )
    marker.touch()
    return target


@dataclass
class KafkaNode:
    """Configuration of one local node; its directory holds the config, the log and the data."""

    home: Path
    port: int
    controller_port: int
    # A second listener advertised at a proxy's address (fault tests put Toxiproxy between a
    # worker and the broker): (listener port, advertised proxy port).
    proxied: tuple[int, int] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.home / "server.properties"

    @property
    def log(self) -> Path:
        return self.home / "kafka.log"

    def write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        listeners = (
            f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
        )
        advertised = listeners
        protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        if self.proxied is not None:
            listen, via = self.proxied
            listeners += f",PROXIED://127.0.0.1:{listen}"
            advertised += f",PROXIED://127.0.0.1:{via}"
            protocols += ",PROXIED:PLAINTEXT"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": listeners,
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": protocols,
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "24",
            "log.segment.bytes": str(64 * 1024 * 1024),
        }
        self.config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))

    def format_storage(self, libs: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = "-"
        while cluster_id.startswith("-"):  # as Kafka's Uuid does: a leading "-" reads as an option
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        formatted = subprocess.run(
            [
                require_tool("java"),
                "-cp",
                f"{libs}/*",
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(self.config),
            ],
            capture_output=True,
            text=True,
        )
        if formatted.returncode != 0:
            raise RuntimeError(
                f"formatting Kafka's storage failed: {formatted.stdout}{formatted.stderr}"
            )

    def start(self) -> subprocess.Popen[bytes]:
        libs = kafka_libs()
        self.write_config()
        self.format_storage(libs)
        return spawn(
            [require_tool("java"), *JVM_OPTS, "-cp", f"{libs}/*", "kafka.Kafka", str(self.config)],
            self.log,
        )


def new_node(home: Path, port: int | None = None, controller_port: int | None = None) -> KafkaNode:
    port = port if port and port_is_free(port) else free_port()
    controller_port = (
        controller_port if controller_port and port_is_free(controller_port) else free_port()
    )
    return KafkaNode(home=home, port=port, controller_port=controller_port)


async def _answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    # Connection refusals while the broker boots are expected; keep them out of the output.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def broker_answers(bootstrap: str) -> bool:
    """Ready means the metadata answers, not merely an open port."""
    return asyncio.run(_answers(bootstrap))


def wait_ready(
    node: KafkaNode, process: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT_S
) -> None:
    wait_until_answers(
        "Kafka",
        process,
        lambda: broker_answers(node.bootstrap),
        where=node.bootstrap,
        log=node.log,
        timeout=timeout,
        pause=0.5,
    )


def start_and_wait(node: KafkaNode) -> subprocess.Popen[bytes]:
    """Start and wait; one restart allowed, as a cold JVM on 2 busy cores can miss the deadline."""
    process = node.start()
    try:
        wait_ready(node, process)
    except TimeoutError:
        process = node.start()
        wait_ready(node, process)
    return process
