"""The local MongoDB-wire server: SecantusDB's ``secantusd-rs`` (WiredTiger, MongoDB's own storage
engine), built once from crates.io into ``.cache/`` and run as a separate process.

Why this server (measured on the same probes as FerretDB 1.24, ../shared/INFRA.md and
tests/mongo_semantics/): racing conditional updates have exactly one winner, ``$inc`` is atomic,
a unique index violated by an update answers E11000 naming the index, secondary indexes are used
(IXSCAN), and multi-document transactions, change streams, TTL and partial indexes work. It
reports itself as a one-member replica set, so PyMongo runs sessions and transactions on it
exactly as on MongoDB 8. It is beta software under GPL-2.0: we only ever run its binary.

Durability: with default flags a ``kill -9`` right after acknowledged writes lost them (measured);
``durable=True`` passes ``--sync-on-commit`` (what `make up` uses; the conformance suite proves
nothing acknowledged is lost). Throwaway test stores skip it, for speed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient

from portal_infra.process import (
    MissingTool,
    cache_dir,
    free_port,
    port_is_free,
    require_tool,
    spawn,
    wait_until_answers,
)

CRATE = "secantus-mdb"
VERSION = "0.5.3-beta.196"  # pinned; the crate asks for rustc 1.98 and builds and passes on 1.95
BINARY = "secantusd-rs"
READY_TIMEOUT_S = 30.0
# A new store pre-allocates WiredTiger's log file (129 MB by default); tests make many stores.
TEST_LOG_FILE_MAX = "16MB"
# WiredTiger's cache (the server's default is 4G): ample for a development machine's data.
CACHE_SIZE = {True: "1G", False: "512M"}


def server_binary() -> Path:
    """The pinned ``secantusd-rs``, built with cargo the first time (about 6 minutes on 2 cores)."""
    root = cache_dir() / "secantus" / VERSION
    binary = root / "bin" / BINARY
    if binary.exists():
        return binary
    cargo = require_tool("cargo")
    if shutil.which("cmake") is None:  # WiredTiger is compiled from bundled C sources
        raise MissingTool(
            "`cmake` is not on PATH (SecantusDB compiles WiredTiger with it): "
            "install it, e.g. `apt-get install -y cmake`."
        )
    print(f"# building {CRATE} {VERSION} into {root} (once; about 6 minutes on 2 cores)")
    building = root.with_name(f"{VERSION}.building")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run(
        [
            cargo,
            "install",
            CRATE,
            "--version",
            VERSION,
            "--locked",
            "--ignore-rust-version",
            "--root",
            str(building),
        ],
        check=True,
        env={**os.environ, "CARGO_TERM_PROGRESS_WHEN": "never"},
    )
    # Moved into place only when complete, so an interrupted build is never taken for a binary.
    shutil.rmtree(root, ignore_errors=True)
    building.rename(root)
    return binary


@dataclass
class MongoNode:
    home: Path
    port: int
    durable: bool = True
    log_file_max: str | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def log(self) -> Path:
        return self.home / "secantusd.log"

    def command(self) -> list[str]:
        cmd = [
            str(server_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.home / "data"),
            "--log-level",
            "WARNING",
            "--cache-size",
            CACHE_SIZE[self.durable],
        ]
        if self.durable:
            cmd.append("--sync-on-commit")
        if self.log_file_max:
            cmd += ["--log-file-max", self.log_file_max]
        return cmd

    def start(self) -> subprocess.Popen[bytes]:
        command = self.command()  # builds the binary first if needed, outside the log
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        return spawn(command, self.log, cwd=self.home)


def new_node(home: Path, port: int | None = None, *, durable: bool = True) -> MongoNode:
    port = port if port and port_is_free(port) else free_port()
    return MongoNode(
        home=home, port=port, durable=durable, log_file_max=None if durable else TEST_LOG_FILE_MAX
    )


def server_answers(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=1000)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def start_and_wait(node: MongoNode, timeout: float = READY_TIMEOUT_S) -> subprocess.Popen[bytes]:
    process = node.start()
    wait_until_answers(
        "SecantusDB",
        process,
        lambda: server_answers(node.uri),
        where=node.uri,
        log=node.log,
        timeout=timeout,
        pause=0.1,
    )
    return process
