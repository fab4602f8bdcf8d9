"""FerretDB 1.24 (MongoDB wire protocol, SQLite backend) built from the Go module proxy.

`go install` of cmd/ferretdb panics at start-up (FerretDB#2982), so tools/ferretdb holds a tiny
module embedding the library; its binary is cached by the hash of its sources.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient

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

READY_TIMEOUT_S = 30.0


def ferretdb_binary() -> Path:
    source = project_root() / "tools" / "ferretdb"
    binary = (
        cache_dir()
        / "ferretdb"
        / f"ferretdb-{fingerprint([source / 'go.mod', source / 'go.sum', source / 'main.go'])}"
    )
    if binary.exists():
        return binary
    go = require_tool("go")
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=source, env=env, check=True)
    return binary


@dataclass
class FerretNode:
    home: Path
    port: int
    in_memory: bool = False

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def log(self) -> Path:
        return self.home / "ferretdb.log"

    def start(self) -> subprocess.Popen[bytes]:
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        # _txlock=immediate: write transactions take the lock up front, so SQLite's busy timeout
        # applies; with deferred ones concurrent writers fail at once with SQLITE_BUSY.
        sqlite_url = (
            "file:./?mode=memory&_txlock=immediate"
            if self.in_memory
            else f"file:{data}/?_txlock=immediate"
        )
        return spawn(
            [str(ferretdb_binary()), f"-listen=127.0.0.1:{self.port}", f"-sqlite-url={sqlite_url}"],
            self.log,
            cwd=data,
        )


def new_node(home: Path, port: int | None = None, in_memory: bool = False) -> FerretNode:
    port = port if port and port_is_free(port) else free_port()
    return FerretNode(home=home, port=port, in_memory=in_memory)


def server_answers(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=1000)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def wait_ready(
    node: FerretNode, process: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT_S
) -> None:
    wait_until_answers(
        "FerretDB",
        process,
        lambda: server_answers(node.uri),
        where=node.uri,
        log=node.log,
        timeout=timeout,
        pause=0.2,
    )


def start_and_wait(node: FerretNode) -> subprocess.Popen[bytes]:
    process = node.start()
    wait_ready(node, process)
    return process
