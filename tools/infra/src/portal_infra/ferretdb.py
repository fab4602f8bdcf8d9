"""FerretDB 1.24 (MongoDB wire protocol, SQLite backend) built from the Go module proxy.

`go install` of cmd/ferretdb panics at start-up (FerretDB#2982), so tools/ferretdb holds a tiny
module embedding the library; its binary is cached by the hash of its sources and patches. The
build applies three small fixes to a copy of the FerretDB module (see ferretdb_patches.py) unless
``upstream=True``, which benchmarks use to show what the fixes change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient

from portal_infra import ferretdb_patches
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


def ferretdb_binary(*, upstream: bool = False) -> Path:
    source = project_root() / "tools" / "ferretdb"
    inputs = [source / "go.mod", source / "go.sum", source / "main.go"]
    if not upstream:
        inputs.append(Path(ferretdb_patches.__file__))
    name = f"ferretdb-{'upstream-' if upstream else ''}{fingerprint(inputs)}"
    binary = cache_dir() / "ferretdb" / name
    if binary.exists():
        return binary
    go = require_tool("go")
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    workdir = source
    if not upstream:
        workdir = _patched_build_dir(go, source, env, binary.parent / f"{name}.src")
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=workdir, env=env, check=True)
    return binary


def _patched_build_dir(go: str, source: Path, env: dict[str, str], where: Path) -> Path:
    """A copy of tools/ferretdb whose go.mod points at a patched copy of the FerretDB module.

    (`go build -overlay` refuses to replace files in the module cache, hence the copy.)
    """
    described = subprocess.run(
        [go, "mod", "download", "-json", ferretdb_patches.FERRETDB_MODULE],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    module = Path(json.loads(described.stdout)["Dir"])
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(module, where / "ferretdb-src", ignore=shutil.ignore_patterns("*_test.go"))
    for copied in (where / "ferretdb-src").rglob("*"):
        copied.chmod(0o755 if copied.is_dir() else 0o644)  # the module cache is read-only
    by_file: dict[str, list[ferretdb_patches.SourcePatch]] = {}
    for patch in ferretdb_patches.PATCHES:
        by_file.setdefault(patch.path, []).append(patch)
    for relative, patches in by_file.items():
        target = where / "ferretdb-src" / relative
        target.write_text(ferretdb_patches.apply(target.read_text(), patches))
    for file_name in ("go.mod", "go.sum", "main.go"):
        shutil.copy2(source / file_name, where / file_name)
    subprocess.run(
        [go, "mod", "edit", f"-replace={ferretdb_patches.FERRETDB_MODULE}=./ferretdb-src"],
        cwd=where,
        env=env,
        check=True,
    )
    return where


@dataclass
class FerretNode:
    home: Path
    port: int
    in_memory: bool = False
    upstream: bool = False  # FerretDB without our patches (benchmarks compare the two)
    synchronous: str = "normal"  # SQLite's; "full" (its default) only for benchmarks

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
        # synchronous(normal): in WAL mode (FerretDB's), SQLite's recommended setting: a commit
        # survives the server process being killed, and only a power cut may roll back the last
        # ones; FULL fsyncs every commit: 1.3-2.9x fewer inserts a second (bench_ferretdb.py).
        # This server is for development and tests; production runs MongoDB with its journal.
        options = f"_txlock=immediate&_pragma=synchronous({self.synchronous})"
        sqlite_url = (
            f"file:./?mode=memory&{options}" if self.in_memory else f"file:{data}/?{options}"
        )
        return spawn(
            [
                str(ferretdb_binary(upstream=self.upstream)),
                f"-listen=127.0.0.1:{self.port}",
                f"-sqlite-url={sqlite_url}",
            ],
            self.log,
            cwd=data,
        )


def new_node(
    home: Path, port: int | None = None, in_memory: bool = False, upstream: bool = False
) -> FerretNode:
    port = port if port and port_is_free(port) else free_port()
    return FerretNode(home=home, port=port, in_memory=in_memory, upstream=upstream)


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
