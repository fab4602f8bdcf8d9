"""`make infra-up` / `make infra-down`: the persistent local Kafka and MongoDB-wire server
(SecantusDB, durable commits) under `.data/`.

Idempotent: a server whose recorded pid is alive and which answers is left alone. Ports are fixed
once chosen (the KRaft quorum remembers its controller address), defaults 19092 and 27018.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from portal_infra import kafka, mongodb
from portal_infra.process import ServerRecord, data_dir, pid_alive, stop_pid

DEFAULT_KAFKA_PORT = 19092
DEFAULT_CONTROLLER_PORT = 19093
DEFAULT_MONGODB_PORT = 27018
MONGODB = "mongodb"  # the record's name


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


def mongodb_up() -> tuple[ServerRecord, bool]:
    record = ServerRecord.load(state_dir(), MONGODB)
    if record and pid_alive(record.pid) and mongodb.server_answers(record.url):
        return record, True
    home = data_dir() / MONGODB
    ports = _ports(home, {"port": DEFAULT_MONGODB_PORT})
    node = mongodb.new_node(home, ports["port"], durable=True)
    _remember_ports(home, {"port": node.port})
    process = mongodb.start_and_wait(node)
    record = ServerRecord(MONGODB, process.pid, node.uri, str(node.log))
    record.save(state_dir())
    return record, False


def up() -> dict[str, str]:
    """Start what is not running; returns the URLs (and remembers which servers it started)."""
    started = time.monotonic()
    kafka_record, kafka_was_up = kafka_up()
    mongo_record, mongo_was_up = mongodb_up()
    for record, was_up in ((kafka_record, kafka_was_up), (mongo_record, mongo_was_up)):
        state = "already running" if was_up else "started"
        print(f"# {record.name}: {state} (pid {record.pid}, log {record.log})")
    print(f"# ready in {time.monotonic() - started:.1f}s")
    newly = [
        r.name
        for r, was_up in ((kafka_record, kafka_was_up), (mongo_record, mongo_was_up))
        if not was_up
    ]
    (state_dir() / "last-started.json").write_text(json.dumps(newly))
    return {"KAFKA_BOOTSTRAP_SERVERS": kafka_record.url, "MONGODB_URI": mongo_record.url}


def last_started() -> list[str]:
    """The servers the last `up()` started itself (not those that already ran)."""
    path = state_dir() / "last-started.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def down(names: tuple[str, ...] = ("kafka", MONGODB)) -> None:
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
    for name, key in (("kafka", "KAFKA_BOOTSTRAP_SERVERS"), (MONGODB, "MONGODB_URI")):
        record = ServerRecord.load(state_dir(), name)
        if record and pid_alive(record.pid):
            urls[key] = record.url
    return urls
