"""Sending through the configured SMTP relay with aiosmtplib, over a small connection pool.

Library errors become one :class:`MailRefused`: a 5xx answer about the message or its recipient
is permanent; 4xx answers, connection failures, timeouts and relay-side configuration problems
(authentication, TLS) are temporary, because the invitation itself is not at fault and retrying
once the relay is back delivers it. Credentials never appear in a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from portal_invitations.ports import MailRefused

logger = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
_MAX_REASON = 300


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    validate_certs: bool = True
    pool_size: int = 4


def _reason(code: int | None, text: str) -> str:
    prefix = f"smtp {code}: " if code is not None else ""
    return (prefix + " ".join(text.split()))[:_MAX_REASON]


def refusal(exc: BaseException) -> MailRefused:
    """Translate an aiosmtplib (or socket) error into a temporary or permanent refusal."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return MailRefused(_reason(first.code, first.message), permanent=first.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return MailRefused(_reason(exc.code, "relay authentication failed"), permanent=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return MailRefused(_reason(exc.code, exc.message), permanent=exc.code >= 500)
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return MailRefused("timeout talking to the relay", permanent=False)
    return MailRefused(_reason(None, f"{type(exc).__name__}: {exc}"), permanent=False)


class SmtpMailer:
    """Reuses up to ``pool_size`` open connections; a broken one is dropped, never reused."""

    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(relay.pool_size)

    def _client(self) -> aiosmtplib.SMTP:
        r = self.relay
        context = ssl.create_default_context()
        if not r.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return aiosmtplib.SMTP(
            hostname=r.host,
            port=r.port,
            use_tls=r.security == "tls",
            start_tls=True if r.security == "starttls" else False,
            username=r.username,
            password=r.password,
            timeout=r.timeout_s,
            tls_context=context if r.security != "none" else None,
        )

    async def send(self, message: EmailMessage) -> None:
        async with self._slots:
            reused = self._idle.pop() if self._idle else None
            if reused is not None:
                try:
                    await reused.send_message(message)
                except aiosmtplib.SMTPServerDisconnected:
                    _discard(reused)  # the relay closed it while idle: retry on a fresh one
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    _discard(reused)
                    raise refusal(exc) from exc
                else:
                    self._idle.append(reused)
                    return
            smtp = self._client()
            try:
                await smtp.connect()
                await smtp.send_message(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                _discard(smtp)
                raise refusal(exc) from exc
            self._idle.append(smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            with contextlib.suppress(Exception):
                await smtp.quit()
            smtp.close()


def _discard(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        smtp.close()
