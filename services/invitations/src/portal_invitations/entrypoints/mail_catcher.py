"""A local SMTP catcher for development: every message it receives becomes a ``.eml`` file.

Run: ``python -m portal_invitations.entrypoints.mail_catcher --port 8025 --dir .data/mail``.
Open the files with any mail client to see the invitations that would have gone out. It listens
on 127.0.0.1 only, accepts every recipient and relays nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import re
import signal
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

logger = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MailDirectory:
    """The aiosmtpd handler: writes each message atomically (temporary name, then rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count(1)
        self.stored = 0

    def path_for(self, content: bytes) -> Path:
        headers = BytesHeaderParser().parsebytes(content)
        ident = _UNSAFE.sub("_", str(headers.get("Message-ID", "")).strip("<>"))[:80] or "message"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
        return self.directory / f"{stamp}-{next(self._sequence):06d}-{ident}.eml"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        path = self.path_for(content)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        self.stored += 1
        return "250 Message stored"


async def serve(host: str, port: int, directory: Path, ready: asyncio.Event | None = None) -> None:
    handler = MailDirectory(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="mail-catcher"), host=host, port=port
    )
    logger.info("mail catcher on %s:%d storing into %s", host, port, directory)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".data/mail"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line

    async def run() -> None:
        task = asyncio.create_task(serve(args.host, args.port, args.dir))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
