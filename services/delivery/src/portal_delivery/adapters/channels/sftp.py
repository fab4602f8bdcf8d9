"""The sFTP channel (asyncssh): the document's files in the client's folder on the office's
server, under the connection's base folder.

- The server's host key is pinned (the connection's ``host_key``); any other key is refused.
- Each file is written as ``.<name>.<delivery id>.part`` (a name no importer picks up) and then
  renamed onto its final name: ``posix-rename@openssh.com`` replaces atomically where the server
  offers it; otherwise the old file is removed first and the plain SFTP rename follows.
- Names are deterministic (the document's, never a timestamp or attempt number), so a retry
  after a crash between the upload and the ledger's write overwrites instead of adding a file,
  and a final file already there with the same size and sha256 is not sent again.
- The PDF is written before the UBL (importers key on the XML). At most ``sessions_per_server``
  connections per server at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import time
from collections import defaultdict
from dataclasses import dataclass, field

import asyncssh

from portal_delivery.domain.connections import Connection
from portal_delivery.domain.delivery import ChannelError, Problem, Receipt
from portal_delivery.ports import Parcel, Probe


def known_hosts(connection: Connection) -> asyncssh.SSHKnownHosts:
    host, port = connection.settings["host"], connection.settings.get("port", 22)
    pattern = host if port == 22 else f"[{host}]:{port}"
    return asyncssh.import_known_hosts(f"{pattern} {connection.settings['host_key']}\n")


SessionKey = tuple[str, str, int, str, int]  # office, connection, its version, host, port


@dataclass
class _Session:
    ssh: asyncssh.SSHClientConnection
    sftp: asyncssh.SFTPClient
    idle_since: float = 0.0
    reused: bool = False
    folders: set[str] = field(default_factory=set)  # made in this session already

    def close(self) -> None:
        self.sftp.exit()
        self.ssh.close()


class SftpChannel:
    """Keeps up to ``sessions_per_server`` sessions per server open between deliveries (an SSH
    handshake costs more than a small upload); a session that failed is closed, not reused, and
    one idle for ``idle_s`` is closed before use. A changed connection (new version) never
    reuses a session opened with the old settings."""

    def __init__(
        self, *, sessions_per_server: int = 2, timeout_s: float = 30.0, idle_s: float = 60.0
    ) -> None:
        self.timeout_s = timeout_s
        self.idle_s = idle_s
        self._slots: defaultdict[tuple[str, int], asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(sessions_per_server)
        )
        self._idle: defaultdict[SessionKey, list[_Session]] = defaultdict(list)

    def _options(self, connection: Connection, pinned: bool = True) -> dict[str, object]:
        settings, secrets = connection.settings, connection.secrets
        options: dict[str, object] = {
            "port": int(settings.get("port", 22)),
            "username": settings["username"],
            "known_hosts": known_hosts(connection) if pinned else None,
            "connect_timeout": self.timeout_s,
            "login_timeout": self.timeout_s,
            "client_keys": [asyncssh.import_private_key(secrets["private_key"])]
            if secrets.get("private_key")
            else None,
        }
        if secrets.get("password"):
            options["password"] = secrets["password"]
        return options

    async def deliver(self, parcel: Parcel) -> Receipt:
        connection = parcel.connection
        if connection is None:
            raise ChannelError(
                Problem("sftp.connection_unknown", parcel.delivery.destination, retryable=False)
            )
        if not connection.settings.get("host_key"):
            raise ChannelError(Problem("sftp.host_key_missing", connection.name, retryable=False))
        folder = posixpath.join(connection.settings.get("base_folder", ""), parcel.delivery.folder)
        host, port = connection.settings["host"], int(connection.settings.get("port", 22))
        key: SessionKey = (connection.office_id, connection.name, connection.version, host, port)
        async with self._slots[(host, port)]:
            for reuse in (True, False):
                session = None
                try:
                    session = await self._session(key, connection, reuse=reuse)
                    written = await self._write_all(session, folder, parcel)
                    break
                except Exception as exc:
                    if session is not None:
                        session.close()
                    if reuse and session is not None and session.reused and _lost(exc):
                        continue  # an idle session the server dropped: once more, on a new one
                    if isinstance(exc, ChannelError):
                        raise
                    raise ChannelError(problem_of(exc)) from exc
            assert session is not None  # noqa: S101 - the loop breaks only after a delivery
            session.idle_since = time.monotonic()
            self._idle[key].append(session)
        return Receipt(
            ", ".join(p for p, _ in written),
            {"files": [{"path": p, "size": s} for p, s in written], "host": host},
        )

    async def _session(self, key: SessionKey, connection: Connection, *, reuse: bool) -> _Session:
        idle = self._idle[key]
        while reuse and idle:
            session = idle.pop()
            if time.monotonic() - session.idle_since < self.idle_s:
                session.reused = True
                return session
            session.close()
        ssh = await asyncssh.connect(key[3], **self._options(connection))
        try:
            return _Session(ssh, await ssh.start_sftp_client())
        except BaseException:
            ssh.close()
            raise

    def close(self) -> None:
        for sessions in self._idle.values():
            for session in sessions:
                session.close()
        self._idle.clear()

    async def _write_all(
        self, session: _Session, folder: str, parcel: Parcel
    ) -> list[tuple[str, int]]:
        sftp = session.sftp
        if folder and folder not in session.folders:
            await sftp.makedirs(folder, exist_ok=True)
            session.folders.add(folder)
        pending: list[tuple[str, str]] = []  # (part, final) of the files to write
        written = []
        for file, data in parcel.files:
            final = posixpath.join(folder, file.name)
            written.append((final, len(data)))
            # Only an attempt taken over from a dead worker may find its files in place; any
            # other is written and renamed over (the same name: never a second file).
            if not (parcel.resumed and await _already_there(sftp, final, data)):
                part = posixpath.join(folder, f".{file.name}.{parcel.delivery.delivery_id}.part")
                pending.append((part, final))
        data_of = {posixpath.join(folder, f.name): d for f, d in parcel.files}
        # The parts are written at once (requests pipelined on the one SFTP channel), then
        # renamed in order: the PDF before the UBL, which importers key on.
        await asyncio.gather(*(_write_part(sftp, part, data_of[final]) for part, final in pending))
        for part, final in pending:
            await _replace(sftp, part, final)
        return written

    async def probe(self, connection: Connection) -> Probe:
        """Log in and look at the base folder; report the host key the server showed."""
        host = connection.settings["host"]
        try:
            async with asyncssh.connect(host, **self._options(connection, pinned=False)) as ssh:
                shown_key = ssh.get_server_host_key()
                shown = (
                    shown_key.export_public_key("openssh").decode().split()[:2] if shown_key else []
                )
                shown_text = " ".join(shown) or None
                pinned = connection.settings.get("host_key")
                if not pinned:
                    return Probe(shown_text, Problem("sftp.host_key_missing", "", retryable=False))
                if " ".join(str(pinned).split()[:2]) != shown_text:
                    return Probe(shown_text, Problem("sftp.host_key_mismatch", "", retryable=False))
                async with ssh.start_sftp_client() as sftp:
                    # The first delivery makes the base folder; the test makes it too, so a
                    # new connection's test says whether that will work, not that it is absent.
                    base = connection.settings.get("base_folder") or "."
                    await sftp.makedirs(base, exist_ok=True)
                    await sftp.stat(base)
                return Probe(shown_text, None)
        except Exception as exc:
            return Probe(None, problem_of(exc))


async def _write_part(sftp: asyncssh.SFTPClient, part: str, data: bytes) -> None:
    async with sftp.open(part, "wb") as handle:
        await handle.write(data)
        try:
            await handle.fsync()  # on the server's disk before the rename makes it visible
        except asyncssh.SFTPOpUnsupported:
            pass  # the server offers no fsync@openssh.com; the rename still orders it


def _lost(exc: BaseException) -> bool:
    return isinstance(
        exc, asyncssh.ConnectionLost | asyncssh.DisconnectError | ConnectionError | BrokenPipeError
    )


async def _already_there(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> bool:
    try:
        attrs = await sftp.stat(path)
    except asyncssh.SFTPNoSuchFile:
        return False
    if attrs.size != len(data):
        return False
    async with sftp.open(path, "rb") as handle:
        stored = await handle.read()
    assert isinstance(stored, bytes)  # noqa: S101 - opened in binary mode
    return hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


async def _replace(sftp: asyncssh.SFTPClient, part: str, final: str) -> None:
    try:
        await sftp.posix_rename(part, final)
    except asyncssh.SFTPOpUnsupported:
        # Plain SFTP v3 rename refuses an existing target: remove it first (a short window
        # where the file is absent; never a half-written file under the final name).
        try:
            await sftp.remove(final)
        except asyncssh.SFTPNoSuchFile:
            pass
        await sftp.rename(part, final)


def problem_of(exc: BaseException) -> Problem:
    """An asyncssh or network failure in the ledger's terms (permanent or worth a retry)."""
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return Problem("sftp.host_key_mismatch", "", retryable=False)
    if isinstance(exc, asyncssh.PermissionDenied):
        return Problem("sftp.login_refused", "", retryable=False)
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return Problem("sftp.folder_refused", str(exc)[:200], retryable=False)
    if isinstance(exc, asyncssh.SFTPNoSpaceOnFilesystem | asyncssh.SFTPQuotaExceeded):
        return Problem("sftp.disk_full", str(exc)[:200])
    if isinstance(exc, asyncssh.SFTPNoSuchFile):  # a file gone under us (folders are made)
        return Problem("sftp.failed", str(exc)[:200])
    if isinstance(exc, OSError | TimeoutError | asyncssh.Error):
        return Problem("sftp.unreachable", type(exc).__name__)
    return Problem("sftp.failed", type(exc).__name__)
