"""The one composition root: real adapters from the settings; tests swap in what they need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_contracts.topics import Topics
from portal_invitations.adapters import invitation_mail
from portal_invitations.adapters.access_store import MongoClientAccess, ensure_indexes
from portal_invitations.adapters.locks import RecordLocks
from portal_invitations.adapters.mongo import (
    MongoGuessLimiter,
    MongoOfficeNames,
    MongoOfficeSendLimit,
)
from portal_invitations.adapters.passwords import Argon2Hasher
from portal_invitations.adapters.smtp import SmtpMailer, SmtpRelay
from portal_invitations.config import Settings
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.ports import Clock, MailSender, PasswordHasher
from portal_invitations.service.handlers import Dependencies
from portal_invitations.service.sender import Compose, InvitationSender
from portal_servicekit import mongo

Document = dict[str, Any]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def smtp_relay(settings: Settings) -> SmtpRelay:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpRelay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password,
        timeout_s=settings.smtp_timeout_s,
        validate_certs=settings.smtp_validate_certs,
        pool_size=settings.smtp_pool_size,
    )


def mail_sender_identity(settings: Settings) -> invitation_mail.Sender:
    return invitation_mail.Sender(
        address=settings.mail_from,
        name=settings.mail_from_name,
        message_id_domain=settings.mail_domain,
        accept_url=settings.accept_url,
    )


def composer(settings: Settings) -> Compose:
    identity = mail_sender_identity(settings)

    def compose(
        access: ClientAccess, inv: Invitation, token: str, office: str | None, now: datetime
    ) -> EmailMessage:
        return invitation_mail.compose(access, inv, token, office, identity, now)

    return compose


@dataclass
class Service:
    settings: Settings
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    deps: Dependencies
    store: MongoClientAccess
    sender: InvitationSender
    mailer: MailSender
    guesses: MongoGuessLimiter

    @property
    def topics(self) -> Topics:
        return Topics(self.settings.platform.topic_prefix)

    async def prepare(self) -> None:
        await ensure_indexes(self.db)

    async def close(self) -> None:
        close = getattr(self.mailer, "close", None)
        if close is not None:
            await close()
        await self.client.close()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    mailer: MailSender | None = None,
    hasher: PasswordHasher | None = None,
) -> Service:
    clock = clock or SystemClock()
    client = mongo.connect(settings.platform.mongodb_uri, app_name="invitations")
    db = client[settings.database]
    window = timedelta(seconds=settings.accept_window_s)
    locks = RecordLocks(db)
    access = MongoClientAccess(db, locks)
    offices = MongoOfficeNames(db, settings.office_names)
    ip_guesses = MongoGuessLimiter(
        db, locks, prefix="ip", limit=settings.accept_ip_limit, window=window
    )
    deps = Dependencies(
        access=access,
        offices=offices,
        hasher=hasher or Argon2Hasher(),
        ip_guesses=ip_guesses,
        token_guesses=MongoGuessLimiter(
            db, locks, prefix="token", limit=settings.accept_token_limit, window=window
        ),
        clock=clock,
    )
    mailer = mailer or SmtpMailer(smtp_relay(settings))
    sender = InvitationSender(
        access=access,
        offices=offices,
        quota=MongoOfficeSendLimit(db, settings.office_hourly_limit, locks),
        mailer=mailer,
        clock=clock,
        compose=composer(settings),
        ttl=settings.token_ttl,
        policy=settings.retry_policy,
        concurrency=settings.send_concurrency,
        batch=settings.send_batch,
        poll_interval_s=settings.send_poll_interval_s,
        idle_max_s=max(settings.send_idle_max_s, settings.send_poll_interval_s),
    )
    return Service(settings, client, db, deps, access, sender, mailer, ip_guesses)


__all__ = ["Service", "SystemClock", "bootstrap"]
