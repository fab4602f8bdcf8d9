"""Starting, finding and stopping local server processes by pid, and the project's paths."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


class MissingTool(RuntimeError):
    """A required command (java, mvn, cargo) is not installed: the message says how to get it."""


INSTALL_HINTS = {
    "java": "install a Java 17+ runtime, e.g. `apt-get install -y openjdk-17-jre-headless`",
    "mvn": "install Maven, e.g. `apt-get install -y maven`",
    "cargo": "install Rust 1.95+ with rustup (https://rustup.rs) or `apt-get install -y cargo`",
    "patch": "install GNU patch, e.g. `apt-get install -y patch`",
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"`{name}` is not on PATH: {INSTALL_HINTS[name]}.")
    return path


def project_root() -> Path:
    env = os.environ.get("PORTAL_ROOT")
    if env:
        return Path(env).resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "tools" / "kafka" / "pom.xml").exists():
            return parent
    return Path.cwd()


def cache_dir() -> Path:
    return Path(os.environ.get("PORTAL_CACHE_DIR", project_root() / ".cache"))


def data_dir() -> Path:
    return Path(os.environ.get("PORTAL_DATA_DIR", project_root() / ".data"))


def fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive for our purposes.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@dataclass
class ServerRecord:
    """What `make infra-up` remembers about a server it started (``.data/infra/<name>.json``)."""

    name: str
    pid: int
    url: str
    log: str

    def save(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / f"{self.name}.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, state_dir: Path, name: str) -> ServerRecord | None:
        path = state_dir / f"{name}.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    @staticmethod
    def forget(state_dir: Path, name: str) -> None:
        (state_dir / f"{name}.json").unlink(missing_ok=True)


def spawn(
    cmd: list[str], log_path: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server in its own session so Ctrl-C in a terminal does not reach it directly."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop a server this process started: SIGTERM, wait, then SIGKILL; always reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM, wait, then SIGKILL the same pid."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_answers(
    name: str,
    process: subprocess.Popen[bytes],
    answers: Callable[[], bool],
    *,
    where: str,
    log: Path,
    timeout: float,
    pause: float,
) -> None:
    """Wait until ``answers()``; fail with the server's log if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail(log)}")
        if answers():
            return
        time.sleep(pause)
    stop_process(process)
    raise TimeoutError(f"{name} did not answer on {where} within {timeout:.0f}s:\n{tail(log)}")
