"""The one composition root: the real adapters from the settings; tests override what they need
(``bootstrap(settings, clock=…, mailer=…)`` replaces those dependencies)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from portal_invitations.adapters import invitation_mail
from portal_invitations.adapters.access_store import MongoClientAccess
from portal_invitations.adapters.mongo import (
    ATTEMPTS,
    QUOTAS,
    MongoFailedAttempts,
    MongoOfficeProfiles,
    MongoOfficeQuota,
    create_ttl_index,
)
from portal_invitations.adapters.passwords import Argon2Hasher
from portal_invitations.adapters.smtp import SmtpMailer, SmtpRelay
from portal_invitations.config import Settings
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.office import OfficeProfile
from portal_invitations.ports import Compose
from portal_invitations.service.deps import Deps, SendingRules
from portal_invitations.service.sender import InvitationSender
from portal_servicekit.runtime import Runtime, open_runtime


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
        access: ClientAccess,
        inv: Invitation,
        token: str,
        office: OfficeProfile | None,
        now: datetime,
    ) -> EmailMessage:
        return invitation_mail.compose(access, inv, token, office, identity, now)

    return compose


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps
    sender: InvitationSender = field(init=False)

    def __post_init__(self) -> None:
        self.sender = InvitationSender(self.deps)

    async def prepare(self) -> None:
        """Create the indexes (idempotent)."""
        await MongoClientAccess(self.runtime).create_indexes()
        for name in (QUOTAS, ATTEMPTS):
            await create_ttl_index(self.runtime.db[name])

    async def close(self) -> None:
        close = getattr(self.deps.mailer, "close", None)
        if close is not None:
            await close()
        await self.runtime.close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Service:
    settings = settings or Settings()
    runtime = open_runtime("invitations", settings.platform, settings.database)
    db = runtime.db
    store = MongoClientAccess(runtime)
    window = timedelta(seconds=settings.accept_window_s)
    deps = Deps(
        access=store,
        to_send=store,
        offices=MongoOfficeProfiles(db, settings.office_names),
        quota=MongoOfficeQuota(db, settings.office_hourly_limit),
        mailer=SmtpMailer(smtp_relay(settings)),
        compose=composer(settings),
        hasher=Argon2Hasher(),
        address_failures=MongoFailedAttempts(
            db, kind="address", limit=settings.accept_ip_limit, window=window
        ),
        link_failures=MongoFailedAttempts(
            db, kind="link", limit=settings.accept_token_limit, window=window
        ),
        clock=SystemClock(),
        sending=SendingRules(
            token_ttl=settings.token_ttl,
            retry=settings.retry_policy,
            concurrency=settings.send_concurrency,
            batch=settings.send_batch,
            poll_interval_s=settings.send_poll_interval_s,
        ),
    )
    return Service(settings, runtime, replace(deps, **overrides))


__all__ = ["Service", "SystemClock", "bootstrap"]
