"""The sender: drains the queue of pending invitations (their state in MongoDB is the queue).

Each due client comes from the small send queue; its document decides. An attempt is claimed
first (a versioned write that sets a lease and stores the new token's hash), then sent, then its
outcome recorded. A crash between the send and the record leaves the
lease to expire, so the invitation is sent again with the same Message-ID (at least once, never
lost). Offices over their hourly quota are skipped until it reopens: delayed, never dropped;
other offices' invitations go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.message import EmailMessage

from portal_invitations.domain.errors import HeaderInjection, NoOpenInvitation
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.sending import RetryPolicy
from portal_invitations.domain.tokens import new_token, token_hash
from portal_invitations.ports import (
    ClientAccessRepository,
    Clock,
    Conflict,
    DueEntry,
    MailRefused,
    MailSender,
    OfficeNames,
    OfficeSendLimit,
)

logger = logging.getLogger(__name__)

Compose = Callable[[ClientAccess, Invitation, str, str | None, datetime], EmailMessage]
_OFFICE_NAME_TTL = timedelta(minutes=1)


@dataclass
class _Outcome:
    error: str | None = None
    permanent: bool = False


@dataclass
class InvitationSender:
    access: ClientAccessRepository
    offices: OfficeNames
    quota: OfficeSendLimit
    mailer: MailSender
    clock: Clock
    compose: Compose
    ttl: timedelta
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 8
    batch: int = 200
    poll_interval_s: float = 1.0
    jitter: Callable[[], float] = random.random
    on_recorded: Callable[[], None] = lambda: None  # wake the outbox relay
    _blocked: dict[str, datetime] = field(default_factory=dict)
    _names: dict[str, tuple[str | None, datetime]] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def send_due(self) -> int:
        """One pass over what is due now; returns how many queue entries it looked at."""
        now = self.clock.now()
        self._blocked = {office: t for office, t in self._blocked.items() if t > now}
        due = await self.access.due_for_sending(now, self.batch, frozenset(self._blocked))
        slots = asyncio.Semaphore(self.concurrency)

        async def one(entry: DueEntry) -> None:
            async with slots:
                try:
                    await self._send_one(entry)
                except Exception:
                    # Never let one invitation stop the others; its lease brings it back.
                    logger.exception("sending the invitation of %s failed", entry.client_id)

        await asyncio.gather(*(one(entry) for entry in due))
        return len(due)

    async def _send_one(self, entry: DueEntry) -> None:
        if entry.office_id in self._blocked:
            return
        access = await self.access.get(entry.client_id)
        now = self.clock.now()
        if access is None or not access.due_for_sending(now):
            due_at = access.send_due_at if access is not None else None
            await self.access.release_due(entry, due_at)
            return
        reopens = await self.quota.reserve(access.office_id, now)
        if reopens is not None:
            self._blocked[access.office_id] = reopens
            logger.info("office %s reached its hourly quota until %s", access.office_id, reopens)
            return
        token = new_token()
        hashed = token_hash(token)
        try:
            invitation = access.begin_sending(hashed, now, self.ttl, self.policy)
            # The claim. The queue entry stays as it is: a pass only starts once the previous
            # one has finished, and after a crash the lease makes the document wait.
            await self.access.save(access, queue=False)
        except (NoOpenInvitation, Conflict):
            return  # changed meanwhile (resent, revoked, claimed by another sender)
        outcome = await self._deliver(access, invitation, token, now)
        await self._record(entry, invitation.invitation_id, hashed, outcome)

    async def _deliver(
        self, access: ClientAccess, invitation: Invitation, token: str, now: datetime
    ) -> _Outcome:
        try:
            office = await self._office_name(access.office_id, now)
            message = self.compose(access, invitation, token, office, now)
        except HeaderInjection as exc:
            return _Outcome(f"{exc.code}: {exc.field}", permanent=True)
        except (HeaderParseError, ValueError, IndexError) as exc:
            return _Outcome(f"mail.invalid_address: {type(exc).__name__}", permanent=True)
        try:
            await self.mailer.send(message)
        except MailRefused as exc:
            return _Outcome(exc.reason, permanent=exc.permanent)
        return _Outcome()

    async def _record(
        self, entry: DueEntry, invitation_id: str, hashed: str, outcome: _Outcome
    ) -> None:
        client_id = entry.client_id
        for _ in range(5):
            access = await self.access.get(client_id)
            if access is None:
                return
            now = self.clock.now()
            if outcome.error is None:
                changed = access.sending_succeeded(invitation_id, now)
            elif outcome.permanent:
                changed = access.sending_failed(invitation_id, now, outcome.error)
            else:
                changed = access.sending_deferred(
                    invitation_id, hashed, now, outcome.error, self.policy, self.jitter()
                )
            if not changed:
                return
            try:
                await self.access.save(access, publish_now=True, done_with=entry)
            except Conflict:
                continue
            self.on_recorded()
            return
        logger.warning("could not record the outcome for %s; its lease will retry", client_id)

    async def _office_name(self, office_id: str, now: datetime) -> str | None:
        cached = self._names.get(office_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        name = await self.offices.name_of(office_id)
        self._names[office_id] = (name, now + _OFFICE_NAME_TTL)
        return name

    # --- the loop ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                looked_at = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("sender pass failed; retrying")
                looked_at = 0
            if looked_at < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="invitation-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
