"""Pytest fixtures giving tests a real Kafka broker and a real MongoDB-wire server.

Servers are resolved, in order: ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URI`` from the environment,
then the servers `make infra-up` runs, then local binaries started here with throwaway state, then
testcontainers when a Docker engine answers. When none is available the fixture fails (with
``CI`` or ``REQUIRE_REAL_SERVICES=1``) or skips (a developer without Java or Go).

A watchdog stops the run with a clear message when a server it relies on dies, so a killed broker
fails the run within seconds instead of letting every test hang on its timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from portal_contracts.topics import Topics
from portal_infra import kafka, local, mongodb
from portal_infra.process import MissingTool, ServerRecord, pid_alive, stop_process


def _require_real() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("REQUIRE_REAL_SERVICES") == "1"


@dataclass
class Server:
    """A server the tests use; ``pid`` is set when this run (or `make infra-up`) started it."""

    name: str
    url: str
    origin: str
    pid: int | None = None
    owned: bool = False
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for action in reversed(self.cleanup):
            with contextlib.suppress(Exception):
                action()


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def _unavailable(name: str, reasons: list[str]) -> None:
    message = f"no {name} available: " + "; ".join(reasons)
    if _require_real():
        pytest.fail(
            message + " (CI / REQUIRE_REAL_SERVICES=1: broker and database tests must run)",
            pytrace=False,
        )
    pytest.skip(message)


def _start_kafka(home: Path) -> Server:
    node = kafka.new_node(home)
    process = kafka.start_and_wait(node)
    server = Server("kafka", node.bootstrap, f"local jars, throwaway ({home})", process.pid, True)
    server.cleanup.append(lambda: stop_process(process))
    return server


def _start_mongodb(home: Path) -> Server:
    # Throwaway: no --sync-on-commit (the durability test starts its own durable server).
    node = mongodb.new_node(home, durable=False)
    process = mongodb.start_and_wait(node)
    server = Server(
        local.MONGODB,
        node.uri,
        f"SecantusDB {mongodb.build_id()}, throwaway store in {home}",
        process.pid,
        True,
    )
    server.cleanup.append(lambda: stop_process(process))
    return server


def _resolve(name: str, env_key: str, start: Callable[[Path], Server], home: Path) -> Server:
    reasons: list[str] = []
    if os.environ.get(env_key):
        return Server(name, os.environ[env_key], f"${env_key}")
    record = ServerRecord.load(local.state_dir(), name)
    if record and pid_alive(record.pid):
        return Server(name, record.url, "`make infra-up`", record.pid)
    reasons.append(f"${env_key} unset and `make infra-up` not running")
    try:
        return start(home)
    except MissingTool as exc:
        reasons.append(str(exc))
    except Exception as exc:
        reasons.append(f"starting a local {name} failed: {exc}")
    if _docker_answers():
        return _testcontainer(name)
    reasons.append("no Docker engine for testcontainers")
    _unavailable(name, reasons)
    raise AssertionError("unreachable")


def _testcontainer(name: str) -> Server:
    if name == "kafka":
        from testcontainers.kafka import KafkaContainer

        kafka_container = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        kafka_container.start()
        server = Server(name, kafka_container.get_bootstrap_server(), "testcontainers")
        server.cleanup.append(kafka_container.stop)
        return server
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    # MongoDB 8 as a one-member replica set: the services use transactions and change streams.
    mongo_container = (
        DockerContainer("mongo:8")
        .with_command("--replSet rs0 --bind_ip_all")
        .with_exposed_ports(27017)
    )
    mongo_container.start()
    wait_for_logs(mongo_container, "Waiting for connections")
    mongo_container.exec(
        "mongosh --quiet --eval "
        "\"rs.initiate({_id:'rs0',members:[{_id:0,host:'localhost:27017'}]})\""
    )
    host = mongo_container.get_container_host_ip()
    port = mongo_container.get_exposed_port(27017)
    url = f"mongodb://{host}:{port}/?directConnection=true"
    server = Server(name, url, "testcontainers (mongo:8, replica set rs0)")
    server.cleanup.append(mongo_container.stop)
    return server


class _Watchdog(threading.Thread):
    """Interrupts the run when a server we know the pid of dies (killed broker → fail fast)."""

    def __init__(self, servers: list[Server]) -> None:
        super().__init__(daemon=True, name="server-watchdog")
        self.servers = [s for s in servers if s.pid is not None]
        self.stopping = threading.Event()
        self.died: Server | None = None

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for server in self.servers:
                if server.pid is not None and not pid_alive(server.pid):
                    self.died = server
                    sys.stderr.write(
                        f"\n\nFATAL: the {server.name} server the tests use ({server.url}, pid "
                        f"{server.pid}, {server.origin}) has died; stopping the test run.\n\n"
                    )
                    sys.stderr.flush()
                    # A real SIGINT (not _thread.interrupt_main) also wakes an event loop
                    # blocked in select(), so a hanging test stops at once.
                    os.kill(os.getpid(), signal.SIGINT)
                    return


@dataclass
class RealServices:
    kafka: Server
    mongodb: Server


_WATCHDOG: _Watchdog | None = None
_REAL_SERVICES: RealServices | None = None


@pytest.fixture(scope="session")
def real_services() -> Iterator[RealServices]:
    global _WATCHDOG, _REAL_SERVICES
    home = Path(tempfile.mkdtemp(prefix="portal-tests-"))
    kafka_server = _resolve("kafka", "KAFKA_BOOTSTRAP_SERVERS", _start_kafka, home / "kafka")
    try:
        mongo_server = _resolve(local.MONGODB, "MONGODB_URI", _start_mongodb, home / "mongodb")
    except BaseException:
        kafka_server.stop()
        raise
    print(
        f"\n[real services] Kafka {kafka_server.url} ({kafka_server.origin}); "
        f"MongoDB-wire {mongo_server.url} ({mongo_server.origin})"
    )
    _WATCHDOG = _Watchdog([kafka_server, mongo_server])
    _WATCHDOG.start()
    _REAL_SERVICES = RealServices(kafka_server, mongo_server)
    yield _REAL_SERVICES
    _WATCHDOG.stopping.set()
    mongo_server.stop()
    kafka_server.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Any, None]:
    """With CI / REQUIRE_REAL_SERVICES=1 a skipped integration test is a failure, not a pass."""
    outcome = yield
    report = outcome.get_result()
    real = item.get_closest_marker("integration") or item.get_closest_marker("e2e")
    if report.skipped and _require_real() and real is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"integration test skipped while real services are required: {report.longrepr}"
        )


_HANG_REPORT_AHEAD_S = 15.0


def _timeout_of(item: Any) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(item.config.getini("timeout") or 0)
    except (ValueError, KeyError):
        return 0.0


def _dump_tasks(test: str) -> None:
    """In the event loop's thread: where every task waits (pytest-timeout shows only threads,
    and an idle loop's thread says nothing about which await never returns)."""
    tasks = asyncio.all_tasks()
    sys.stderr.write(f"\n[hang report] {test}: {len(tasks)} asyncio task(s) still waiting\n")
    for task in tasks:
        sys.stderr.write(f"--- {task.get_name()} {task.get_coro()!r}\n")
        task.print_stack(limit=12, file=sys.stderr)
    sys.stderr.flush()


def _report_hang(test: str) -> None:
    # Not thread-safe to inspect a loop from here; it is asked to report itself instead.
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and obj.is_running():
            obj.call_soon_threadsafe(_dump_tasks, test)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Generator[None, None, None]:
    """Shortly before pytest-timeout fails a test, print its asyncio tasks' stacks: the await
    that never returned is then in the report instead of a guess."""
    timeout = _timeout_of(item)
    timer = None
    if timeout > 2 * _HANG_REPORT_AHEAD_S:
        timer = threading.Timer(timeout - _HANG_REPORT_AHEAD_S, _report_hang, (item.nodeid,))
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _WATCHDOG is not None and _WATCHDOG.died is not None:
        died = _WATCHDOG.died
        terminalreporter.write_line(
            f"FAILED: {died.name} ({died.url}, pid {died.pid}) died during the run", red=True
        )


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _WATCHDOG is not None and _WATCHDOG.died is not None:
        session.exitstatus = 3


@pytest.fixture(scope="session")
def kafka_bootstrap(real_services: RealServices) -> str:
    return real_services.kafka.url


@pytest.fixture(scope="session")
def mongodb_uri(real_services: RealServices) -> str:
    return real_services.mongodb.url


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topics(test_id: str) -> Topics:
    """Topic names of this test only (a unique prefix)."""
    return Topics(prefix=f"test.{test_id}.")


@pytest.fixture
def group_id(test_id: str) -> str:
    return f"test-group-{test_id}"


@pytest.fixture
def database_name(test_id: str) -> str:
    return f"test_{test_id}"


async def discard_database(client: Any, name: str) -> None:
    """Drop a test's database from a server someone else runs; leave it on a throwaway store.

    Each test has its own database, so nothing needs dropping for isolation. On the throwaway
    store the whole directory goes at the end of the run; dropping there only costs time, and
    SecantusDB 0.5.3 was seen to retry a drop on write conflicts forever (over 35 minutes, the
    server spinning), which would hang the run. So: only on a server this run did not start,
    and never waiting more than 10 s.
    """
    mongodb = _REAL_SERVICES.mongodb if _REAL_SERVICES is not None else None
    if mongodb is not None and mongodb.owned:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.drop_database(name), timeout=10)


@pytest.fixture
async def mongo_db(mongodb_uri: str, database_name: str) -> AsyncIterator[Any]:
    """A fresh database on the real server (see :func:`discard_database` for afterwards)."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_uri, serverSelectionTimeoutMS=10_000
    )
    try:
        yield client[database_name]
        await discard_database(client, database_name)
    finally:
        await client.close()


@pytest.fixture
def own_kafka() -> Iterator[Callable[[], Server]]:
    """Start a dedicated throwaway broker, for tests that kill or pause it."""
    started: list[Server] = []
    homes: list[Path] = []

    def start() -> Server:
        home = Path(tempfile.mkdtemp(prefix="portal-own-kafka-"))
        homes.append(home)
        try:
            server = _start_kafka(home)
        except MissingTool as exc:
            _unavailable("kafka", [str(exc)])
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
