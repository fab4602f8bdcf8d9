"""Test support of the invitations tests: a scripted REAL SMTP server (aiosmtpd), a settable
clock, event builders, JWTs, and a harness wiring the service to the real MongoDB-wire server."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

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
        if not isinstance(parsed, EmailMessage):
            return "554 5.6.0 Unparseable message"
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, within_s: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + within_s
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


class SettableClock:
    """A fixed moment moved by hand, or (``follow_real_time``) the wall clock."""

    def __init__(self, now: datetime | None = None) -> None:
        self.moment = now or datetime.now(UTC)
        self.real = False

    def follow_real_time(self) -> None:
        self.real = True

    def now(self) -> datetime:
        return datetime.now(UTC) if self.real else self.moment

    def advance(self, **delta: Any) -> None:
        self.moment += timedelta(**delta)


# --- the service on the real servers, with a real SMTP server ----------------------------------

JWT_KEY = "test-key-for-the-invitations-service-0123456789"


def snapshot(
    client_id: str,
    *,
    email: str = "marie@example.be",
    version: int = 1,
    mode: str = "full_follow_up",
    language: str = "fr",
    first_name: str = "Marie",
    last_name: str = "Dubois",
    group_id: str = "everyone",
    status: str = "not_invited",
    archived: bool = False,
) -> Any:
    from portal_contracts.clients import ClientSnapshot

    now = datetime.now(UTC)
    return ClientSnapshot.model_validate(
        {
            "client_id": client_id,
            "version": version,
            "status": status,
            "vat_check": "skipped",
            "created_at": now,
            "updated_at": now,
            "group_id": group_id,
            "company": {
                "vat_number": "BE0403170701",
                "name": "Dubois SRL",
                "vat_frequency": "quarterly",
                "subscription_mode": mode,
            },
            "user": {
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "mobile_phone": "+32470123456",
                "language": language,
            },
            "bank_accounts": ["BE68539007547034"] if mode == "accountant_managed" else [],
            "archived_at": now if archived else None,
        }
    )


def client_created(office_id: str, client_id: str, *, invite: bool = False, **kw: Any) -> Any:
    from portal_contracts.clients import ClientCreated, ClientCreatedPayload

    return ClientCreated.new(
        office_id=office_id,
        payload=ClientCreatedPayload(client=snapshot(client_id, **kw), invite=invite),
    )


def client_updated(office_id: str, client_id: str, **kw: Any) -> Any:
    from portal_contracts.clients import ClientUpdated, ClientUpdatedPayload

    return ClientUpdated.new(
        office_id=office_id,
        payload=ClientUpdatedPayload(client=snapshot(client_id, **kw), changed=["user.email"]),
    )


def bearer(office_id: str, *, role: str = "admin", groups: tuple[str, ...] = ()) -> dict[str, str]:
    from portal_contracts.identity import Caller, Role, issue_token

    caller = Caller(office_id=office_id, user_id="accountant-1", role=Role(role), groups=groups)
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


def token_in(received: Received) -> str:
    body = received.message.get_body(("plain",))
    if body is None:
        raise AssertionError("no plain-text part")
    for line in str(body.get_content()).splitlines():
        if "token=" in line:
            return line.strip().split("token=", 1)[1]
    raise AssertionError("no link in the e-mail")


@dataclass
class Harness:
    """The service wired to the real servers, its HTTP app, and helpers."""

    service: Any
    http: Any
    smtp: SmtpServer
    clock: SettableClock

    async def record(self, event: Any) -> None:
        from portal_invitations.entrypoints.consumers import record_command
        from portal_invitations.service import handlers

        invite = bool(getattr(event.payload, "invite", False))
        await handlers.record_client(record_command(event, invite), self.service.deps)

    async def send_due(self) -> int:
        return int(await self.service.sender.send_due())

    async def document(self, client_id: str) -> Any:
        return await self.service.runtime.db["client_access"].find_one({"_id": client_id})

    async def outbox(self, client_id: str) -> list[dict[str, Any]]:
        """The client's events committed and not yet published, in order (nothing publishes
        without a worker)."""
        return await outbox_events(self.service.runtime.db, client_id)


async def outbox_events(db: Any, client_id: str | None = None) -> list[dict[str, Any]]:
    """servicekit's outbox records, opened: ``{"event_type", "body"}`` per event, in order."""
    found = []
    async for record in db["outbox"].find({}).sort("_id", 1):
        for event in record["events"]:
            if client_id is None or event["key"] == client_id:
                found.append({"event_type": event["type"], "body": json.loads(event["body"])})
    return found


def settings_for(
    kafka: str, mongodb_uri: str, database: str, smtp: SmtpServer, prefix: str = "", **kw: Any
) -> Any:
    from portal_invitations.config import Settings
    from portal_servicekit.settings import PlatformSettings

    platform = PlatformSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        MONGODB_URI=mongodb_uri,
        PORTAL_JWT_KEY=JWT_KEY,
        PORTAL_TOPIC_PREFIX=prefix,
    )
    values: dict[str, Any] = {
        "platform": platform,
        "database": database,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "smtp_timeout_s": 5,
        "mail_from": "no-reply@portal.example",
        "accept_url": "https://portal.example/invitation?token={token}",
        "office_names": {"office-a": "Fiduciaire Dupont"},
        "retry_base_s": 10,
        "send_poll_interval_s": 0.1,
    }
    values.update(kw)
    return Settings(**values)
