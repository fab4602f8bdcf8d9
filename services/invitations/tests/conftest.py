"""Fixtures of the invitations tests: a REAL SMTP server (aiosmtpd) on loopback that stores what
it receives and can be told to answer 4xx/5xx, plus a settable clock."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class ScriptedHandler:
    """Accepts everything unless replies were queued: ``refuse_rcpt.append("451 4.3.0 later")``."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: deque[str] = field(default_factory=deque)
    refusals: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            if self.refuse_rcpt:
                self.refusals += 1
                return self.refuse_rcpt.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} messages received, {count} expected")
            await asyncio.sleep(0.05)
        return list(self.received)


@dataclass
class SmtpServer:
    """aiosmtpd's controller in its own thread; ``stop``/``start`` simulate a relay outage."""

    host: str
    port: int
    handler: ScriptedHandler
    controller: Controller | None = None

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname=self.host, port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port(), ScriptedHandler())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class SettableClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.moment = now or datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: Any) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()
