"""A local sFTP server for development and tests (asyncssh): one user, a password, files under
one directory (chrooted), an ed25519 host key kept beside it so the pinned key stays the same
across restarts.

Run: ``python -m portal_delivery.entrypoints.sftp_server --port 8022 --root .data/sftp``; it
prints the host key line to pin (``ssh-ed25519 AAAA…``). 127.0.0.1 only. ``--no-posix-rename``
serves without the posix-rename extension, as some servers do (the channel's fallback).
``--slow-writes-ms`` delays every write (fault-injection tests kill a worker mid-upload).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

import asyncssh

logger = logging.getLogger(__name__)


class _Server(asyncssh.SSHServer):
    def __init__(
        self,
        username: str,
        password: str,
        sessions: set[asyncssh.SSHServerConnection] | None = None,
    ) -> None:
        self.username, self.password = username, password
        self.sessions = sessions
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        if self.sessions is not None:
            self.sessions.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.sessions is not None and self.conn is not None:
            self.sessions.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == (self.username, self.password)


def _sftp_factory(root: Path, *, posix_rename: bool, slow_writes_s: float) -> Any:
    class Sftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
            super().__init__(chan, chroot=str(root).encode())

        async def write(self, file_obj: object, offset: int, data: bytes) -> int:
            if slow_writes_s:
                await asyncio.sleep(slow_writes_s)
            return super().write(file_obj, offset, data)  # type: ignore[return-value]

        def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
            if not posix_rename:  # as a server without the extension answers
                raise asyncssh.SFTPOpUnsupported("posix-rename is not supported")
            super().posix_rename(oldpath, newpath)

    return Sftp


def host_key(path: Path) -> asyncssh.SSHKey:
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    key.write_private_key(str(path))
    path.chmod(0o600)
    return key


def host_key_line(key: asyncssh.SSHKey) -> str:
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


async def serve(
    *,
    host: str,
    port: int,
    root: Path,
    username: str,
    password: str,
    key_path: Path,
    posix_rename: bool = True,
    slow_writes_s: float = 0.0,
    sessions: set[asyncssh.SSHServerConnection] | None = None,
) -> asyncssh.SSHAcceptor:
    """``sessions``: kept up to date with the open connections (closing the acceptor leaves
    them open; a caller taking the server down closes them too)."""
    root.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    key = host_key(key_path)
    acceptor = await asyncssh.listen(
        host,
        port,
        server_host_keys=[key],
        server_factory=lambda: _Server(username, password, sessions),
        sftp_factory=_sftp_factory(root, posix_rename=posix_rename, slow_writes_s=slow_writes_s),
        allow_scp=False,
    )
    logger.info("sFTP server on %s:%d, root %s, host key %s", host, port, root, host_key_line(key))
    return acceptor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8022)
    parser.add_argument("--root", type=Path, default=Path(".data/sftp/root"))
    parser.add_argument("--host-key", type=Path, default=Path(".data/sftp/host_key"))
    parser.add_argument("--user", default="portal")
    parser.add_argument("--password", default="portal-dev-only")
    parser.add_argument("--no-posix-rename", action="store_true")
    parser.add_argument("--slow-writes-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)

    async def run() -> None:
        acceptor = await serve(
            host=args.host,
            port=args.port,
            root=args.root,
            username=args.user,
            password=args.password,
            key_path=args.host_key,
            posix_rename=not args.no_posix_rename,
            slow_writes_s=args.slow_writes_ms / 1000,
        )
        print(f"host_key={host_key_line(host_key(args.host_key))}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        acceptor.close()
        with contextlib.suppress(Exception):
            await acceptor.wait_closed()

    asyncio.run(run())


if __name__ == "__main__":
    main()
