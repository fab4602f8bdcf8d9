"""What the handlers and the sender may use: ports only (service/ never imports adapters)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from portal_invitations.domain.model import ClientAccess
from portal_invitations.domain.sending import RetryPolicy
from portal_invitations.ports import (
    ClientAccessRepository,
    Clock,
    Compose,
    FailedAttempts,
    InvitationsToSend,
    MailSender,
    OfficeProfiles,
    OfficeQuota,
    PasswordHasher,
)


@dataclass(frozen=True)
class SendingRules:
    token_ttl: timedelta = timedelta(days=14)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 8  # e-mails handed to the relay at once
    batch: int = 200  # due invitations claimed per pass
    poll_interval_s: float = 1.0


def _nothing() -> None:
    return None


@dataclass
class Deps:
    access: ClientAccessRepository
    to_send: InvitationsToSend
    offices: OfficeProfiles
    quota: OfficeQuota
    mailer: MailSender
    compose: Compose
    hasher: PasswordHasher
    address_failures: FailedAttempts  # links that led nowhere, per client address
    link_failures: FailedAttempts  # wrong mobile numbers, per (valid) link
    clock: Clock
    sending: SendingRules = field(default_factory=SendingRules)
    notify: Callable[[], None] = _nothing  # a change to send: wake the sender (the worker's)
    # Stores never-stored clients, returning those stored first by someone else; the worker's
    # sender does it, claiming their invitations in the insert (InvitationSender.store_new).
    store_new: Callable[[Sequence[ClientAccess]], Awaitable[list[ClientAccess]]] | None = None
