"""`make infra-up` / `make infra-down`: the persistent local Kafka and FerretDB under `.data/`.

Idempotent: a server whose recorded pid is alive and which answers is left alone. Ports are fixed
once chosen (the KRaft quorum remembers its controller address), defaults 19092 and 27018.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from portal_infra import ferretdb, kafka
from portal_infra.process import ServerRecord, data_dir, pid_alive, stop_pid

DEFAULT_KAFKA_PORT = 19092
DEFAULT_CONTROLLER_PORT = 19093
DEFAULT_FERRETDB_PORT = 27018


def state_dir() -> Path:
    return data_dir() / "infra"


def _ports(home: Path, defaults: dict[str, int]) -> dict[str, int]:
    path = home / "ports.json"
    if path.exists():
        return {**defaults, **json.loads(path.read_text())}
    return defaults


def _remember_ports(home: Path, ports: dict[str, int]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "ports.json").write_text(json.dumps(ports))


def kafka_up() -> tuple[ServerRecord, bool]:
    """Returns the record and whether it was already running."""
    record = ServerRecord.load(state_dir(), "kafka")
    if record and pid_alive(record.pid) and kafka.broker_answers(record.url):
        return record, True
    home = data_dir() / "kafka"
    ports = _ports(home, {"port": DEFAULT_KAFKA_PORT, "controller_port": DEFAULT_CONTROLLER_PORT})
    node = kafka.new_node(home, ports["port"], ports["controller_port"])
    if (node.port, node.controller_port) != (ports["port"], ports["controller_port"]) and (
        home / "data"
    ).exists():
        raise RuntimeError(
            f"Kafka's ports {ports} are taken by another program; free them or delete {home}."
        )
    _remember_ports(home, {"port": node.port, "controller_port": node.controller_port})
    process = kafka.start_and_wait(node)
    record = ServerRecord("kafka", process.pid, node.bootstrap, str(node.log))
    record.save(state_dir())
    return record, False


def ferretdb_up() -> tuple[ServerRecord, bool]:
    record = ServerRecord.load(state_dir(), "ferretdb")
    if record and pid_alive(record.pid) and ferretdb.server_answers(record.url):
        return record, True
    home = data_dir() / "ferretdb"
    ports = _ports(home, {"port": DEFAULT_FERRETDB_PORT})
    node = ferretdb.new_node(home, ports["port"])
    _remember_ports(home, {"port": node.port})
    process = ferretdb.start_and_wait(node)
    record = ServerRecord("ferretdb", process.pid, node.uri, str(node.log))
    record.save(state_dir())
    return record, False


def up() -> dict[str, str]:
    """Start what is not running; returns the URLs (and remembers which servers it started)."""
    started = time.monotonic()
    kafka_record, kafka_was_up = kafka_up()
    ferret_record, ferret_was_up = ferretdb_up()
    for record, was_up in ((kafka_record, kafka_was_up), (ferret_record, ferret_was_up)):
        state = "already running" if was_up else "started"
        print(f"# {record.name}: {state} (pid {record.pid}, log {record.log})")
    print(f"# ready in {time.monotonic() - started:.1f}s")
    newly = [
        r.name
        for r, was_up in ((kafka_record, kafka_was_up), (ferret_record, ferret_was_up))
        if not was_up
    ]
    (state_dir() / "last-started.json").write_text(json.dumps(newly))
    return {"KAFKA_BOOTSTRAP_SERVERS": kafka_record.url, "MONGODB_URI": ferret_record.url}


def last_started() -> list[str]:
    """The servers the last `up()` started itself (not those that already ran)."""
    path = state_dir() / "last-started.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def down(names: tuple[str, ...] = ("kafka", "ferretdb")) -> None:
    for name in names:
        record = ServerRecord.load(state_dir(), name)
        if record is None:
            print(f"# {name}: not running")
            continue
        stop_pid(record.pid)
        ServerRecord.forget(state_dir(), name)
        print(f"# {name}: stopped (pid {record.pid})")


def running() -> dict[str, str]:
    """URLs of the local servers that are up (used by the test fixtures and the stack)."""
    urls: dict[str, str] = {}
    for name, key in (("kafka", "KAFKA_BOOTSTRAP_SERVERS"), ("ferretdb", "MONGODB_URI")):
        record = ServerRecord.load(state_dir(), name)
        if record and pid_alive(record.pid):
            urls[key] = record.url
    return urls
