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

Patched where it breaks a MongoDB promise (``secantus_patches/``, applied to the crates'
sources before the build; tests/mongo_semantics/ proves each): 0001 — an update left the old
value of a unique index claimed by its document and the new one unclaimed, so a value freed by
an update (a client's changed e-mail, an archived client's released VAT number) was refused to
everyone else as a duplicate, where MongoDB accepts it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
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


PATCHES = Path(__file__).with_name("secantus_patches")
PATCHED_CRATE = "secantus-storage"  # the crate the patches apply to (its src/lib.rs)


def build_id() -> str:
    """The pinned version and a digest of the patches: a changed patch is a new binary."""
    digest = hashlib.sha256()
    for patch in sorted(PATCHES.glob("*.patch")):
        digest.update(patch.read_bytes())
    return f"{VERSION}+portal.{digest.hexdigest()[:10]}"


def server_binary() -> Path:
    """The pinned, patched ``secantusd-rs``, built with cargo the first time (about 6 minutes
    on 2 cores)."""
    root = cache_dir() / "secantus" / build_id()
    binary = root / "bin" / BINARY
    if binary.exists():
        return binary
    cargo = require_tool("cargo")
    require_tool("patch")
    if shutil.which("cmake") is None:  # WiredTiger is compiled from bundled C sources
        raise MissingTool(
            "`cmake` is not on PATH (SecantusDB compiles WiredTiger with it): "
            "install it, e.g. `apt-get install -y cmake`."
        )
    print(f"# building {CRATE} {build_id()} into {root} (once; about 6 minutes on 2 cores)")
    building = root.with_name(f"{root.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    sources = _patched_sources(cargo, building / "src")
    env = {**os.environ, "CARGO_TERM_PROGRESS_WHEN": "never"}
    target = cache_dir() / "secantus" / "target"  # kept: a new patch rebuilds only what changed
    subprocess.run(
        [cargo, "build", "--release", "--ignore-rust-version", "--bin", BINARY,
         "--target-dir", str(target)],
        check=True, cwd=sources, env=env,
    )  # fmt: skip
    (building / "bin").mkdir(parents=True)
    shutil.copy2(target / "release" / BINARY, building / "bin" / BINARY)
    shutil.rmtree(building / "src")
    # Moved into place only when complete, so an interrupted build is never taken for a binary.
    shutil.rmtree(root, ignore_errors=True)
    building.rename(root)
    return binary


def _patched_sources(cargo: str, into: Path) -> Path:
    """The crate's sources (its shipped Cargo.lock pins every dependency) with
    ``PATCHED_CRATE`` copied beside it, patched, and put in its place by ``[patch]``."""
    crates = _crate_sources(cargo, {CRATE, PATCHED_CRATE})
    server, patched = into / CRATE, into / PATCHED_CRATE
    shutil.copytree(crates[CRATE], server)
    shutil.copytree(crates[PATCHED_CRATE], patched)
    for patch in sorted(PATCHES.glob("*.patch")):
        subprocess.run(["patch", "-p1", "--forward", "-i", str(patch)], check=True, cwd=patched)
    with (server / "Cargo.toml").open("a") as manifest:
        manifest.write(
            f'\n[patch.crates-io]\n{PATCHED_CRATE} = {{ path = "../{PATCHED_CRATE}" }}\n'
        )
    return server


def _crate_sources(cargo: str, names: set[str]) -> dict[str, Path]:
    """Where cargo unpacked these crates at ``VERSION`` (downloaded by ``cargo fetch`` of a
    throwaway package that depends on them)."""
    with tempfile.TemporaryDirectory(prefix="secantus-fetch-") as tmp:
        package = Path(tmp)
        deps = "\n".join(f'{name} = "={VERSION}"' for name in sorted(names))
        (package / "Cargo.toml").write_text(
            f'[package]\nname = "fetch-secantus"\nversion = "0.0.0"\nedition = "2021"\n'
            f"\n[dependencies]\n{deps}\n"
        )
        (package / "src").mkdir()
        (package / "src" / "lib.rs").write_text("")
        subprocess.run([cargo, "fetch", "--quiet"], check=True, cwd=package)
        metadata = subprocess.run(
            [cargo, "metadata", "--format-version", "1", "--offline"],
            check=True, cwd=package, capture_output=True, text=True,
        )  # fmt: skip
    found = {
        p["name"]: Path(p["manifest_path"]).parent
        for p in json.loads(metadata.stdout)["packages"]
        if p["name"] in names and p["version"] == VERSION
    }
    missing = names - set(found)
    if missing:
        raise MissingTool(f"cargo did not fetch {sorted(missing)} {VERSION}")
    return found


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
