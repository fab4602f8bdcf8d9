"""The sender: drains the queue of pending invitations (their state in MongoDB is the queue).

Due clients come from the small send queue; their documents decide. The sender works in
chunks of clients (one lock command, one ``$in`` read and a few batched writes per chunk; on
FerretDB the updates, one per client, are what costs): an attempt is claimed first (a versioned
write that sets a lease and stores the new token's hash), then sent, then its outcome recorded.
A crash between the send and the record leaves the lease to expire, so the invitation is sent
again with the same Message-ID (at least once, never lost). Offices over their hourly quota
are skipped until it reopens: delayed, never dropped; other offices' go on. A client another
writer holds at that moment is simply left for the next pass. New clients take a shorter way
in the worker (:meth:`InvitationSender.store_new`): claimed in the insert that stores them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.message import EmailMessage
from typing import TypeVar

from portal_invitations.domain.errors import HeaderInjection
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
T = TypeVar("T")

Compose = Callable[[ClientAccess, Invitation, str, str | None, datetime], EmailMessage]
_OFFICE_NAME_TTL = timedelta(minutes=1)


@dataclass
class _Outcome:
    error: str | None = None
    permanent: bool = False


@dataclass
class _Claim:
    """One claimed attempt: the clear token only lives here and in the e-mail."""

    entry: DueEntry
    access: ClientAccess
    invitation: Invitation
    token: str
    hashed: str
    claimed_at: datetime
    outcome: _Outcome | None = None  # None: unknown, the lease will bring it back

    @property
    def client_id(self) -> str:
        return self.entry.client_id


def _in_chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


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
    concurrency: int = 8  # e-mails handed to the relay at once
    batch: int = 200  # queue entries read per pass
    chunk: int = 50  # clients claimed and recorded together
    chunks_in_flight: int = 3  # while one chunk is being written, another is being sent
    handover_limit: int = 500  # claimed on insert (see store_new) and not yet recorded
    handover_wait_s: float = 30.0  # how long the consumer waits for room before queueing
    poll_interval_s: float = 1.0
    idle_max_s: float = 10.0  # longest wait between empty polls (retries are due that late)
    jitter: Callable[[], float] = random.random
    _blocked: dict[str, datetime] = field(default_factory=dict)
    _names: dict[str, tuple[str | None, datetime]] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _smtp_slots: asyncio.Semaphore | None = None
    _lanes: asyncio.Semaphore | None = None
    _in_hand: int = 0
    _handed: set[asyncio.Task[None]] = field(default_factory=set)
    _handed_back: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stopping: bool = False

    async def send_due(self) -> int:
        """One pass over what is due now; returns how many queue entries it looked at."""
        now = self.clock.now()
        self._blocked = {office: t for office, t in self._blocked.items() if t > now}
        due = await self.access.due_for_sending(now, self.batch, frozenset(self._blocked))

        async def one(entries: Sequence[DueEntry]) -> None:
            async with self._lane():
                try:
                    await self._send_and_record(await self._claim(entries))
                except Exception:
                    # Never let one chunk stop the others; the leases bring its clients back.
                    logger.exception("sending a chunk of %d invitations failed", len(entries))

        await asyncio.gather(*(one(entries) for entries in _in_chunks(due, self.chunk)))
        return len(due)

    async def store_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        """Store never-stored clients with one insert, their due invitations claimed in that
        same insert, and send those at once: an imported client's invitation then costs one
        update of its document (the outcome) instead of two. As many as can go now
        (``handover_limit``, the offices' quotas); the others wait in the queue as usual. If
        the process dies before an outcome is recorded, the lease brings the invitation back,
        as after any claim. Returns the clients someone else stored first (nothing of them
        was written)."""
        due = [a for a in accesses if a.due_for_sending(self.clock.now())]
        if due and not self._stopping:
            await self._room_for(len(due))  # Kafka is the buffer, not a pile of leases
        if self._stopping:  # nothing new is started: queued, for the next worker
            return (await self.access.add_new(accesses)).taken
        now = self.clock.now()
        room = max(0, self.handover_limit - self._in_hand)
        due = [a for a in due if a.office_id not in self._blocked]
        started = []
        for access in await self._within_quota(due[:room], now):
            token = new_token()
            hashed = token_hash(token)
            invitation = access.begin_sending(hashed, now, self.ttl, self.policy)
            started.append((access, invitation, token, hashed))
        added = await self.access.add_new(accesses)
        stored = {c for c in added.queued if c not in {a.client_id for a in added.taken}}
        claims = [
            _Claim(added.queued[access.client_id], access, invitation, token, hashed, now)
            for access, invitation, token, hashed in started
            if access.client_id in stored
        ]
        if claims:
            self._in_hand += len(claims)
            task = asyncio.create_task(self._send_claimed(claims), name="invitations-handed-over")
            self._handed.add(task)
            task.add_done_callback(self._handed.discard)
        return added.taken

    async def _room_for(self, wanted: int) -> None:
        needed = self.handover_limit - min(wanted, self.handover_limit)
        async with self._handed_back:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._handed_back.wait_for(lambda: self._in_hand <= needed),
                    timeout=self.handover_wait_s,
                )

    async def _send_claimed(self, claims: list[_Claim]) -> None:
        async def one(part: Sequence[_Claim]) -> None:
            async with self._lane():
                try:
                    await self._send_and_record(part)
                except Exception:
                    logger.exception("sending a chunk of %d invitations failed", len(part))

        try:
            await asyncio.gather(*(one(part) for part in _in_chunks(claims, self.chunk)))
        finally:
            self._in_hand -= len(claims)
            async with self._handed_back:
                self._handed_back.notify_all()

    def _lane(self) -> asyncio.Semaphore:
        """A few chunks at once: while one is being written, another is being sent."""
        if self._lanes is None:
            self._lanes = asyncio.Semaphore(self.chunks_in_flight)
        return self._lanes

    async def _send_and_record(self, claims: Sequence[_Claim]) -> None:
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        await self._record_all([c for c in claims if c.outcome is not None])

    async def _claim(self, entries: Sequence[DueEntry]) -> list[_Claim]:
        """Claim what is due among ``entries``, in one locked batch."""
        now = self.clock.now()
        wanted = {e.client_id: e for e in entries if e.office_id not in self._blocked}
        claims: list[_Claim] = []
        async with self.access.locked(list(wanted)) as batch:
            due: list[ClientAccess] = []
            for client_id, entry in wanted.items():
                if client_id not in batch.locked:
                    continue  # another writer has it right now: next pass
                access = batch.accesses.get(client_id)
                if access is None or not access.due_for_sending(now):
                    due_at = access.send_due_at if access is not None else None
                    await self.access.release_due_locked(entry, due_at)
                    continue
                due.append(access)
            for access in await self._within_quota(due, now):
                token = new_token()
                hashed = token_hash(token)
                invitation = access.begin_sending(hashed, now, self.ttl, self.policy)
                entry = wanted[access.client_id]
                claims.append(_Claim(entry, access, invitation, token, hashed, now))
            # The claim. The queue entries stay as they are: a pass only starts once the
            # previous one has finished, and after a crash the lease makes the document wait.
            lost = await self.access.write_locked([c.access for c in claims], queue=False)
        return [c for c in claims if c.client_id not in lost]

    async def _within_quota(self, due: list[ClientAccess], now: datetime) -> list[ClientAccess]:
        """Those of ``due`` their offices' quotas allow now (one reservation per office)."""
        by_office: dict[str, list[ClientAccess]] = {}
        for access in due:
            by_office.setdefault(access.office_id, []).append(access)
        allowed: list[ClientAccess] = []
        for office_id, accesses in by_office.items():
            reservation = await self.quota.reserve(office_id, now, len(accesses))
            allowed.extend(accesses[: reservation.granted])
            if reservation.reopens is not None:
                self._blocked[office_id] = reservation.reopens
                logger.info(
                    "office %s reached its hourly quota until %s", office_id, reservation.reopens
                )
        return allowed

    async def _deliver(self, claim: _Claim) -> None:
        if self._smtp_slots is None:
            self._smtp_slots = asyncio.Semaphore(self.concurrency)
        async with self._smtp_slots:
            if self.clock.now() - claim.claimed_at > self.policy.lease / 2:
                # Waited too long (a slow relay): another sender may take it over when its
                # lease ends, so it is left to the lease rather than risk two e-mails.
                logger.warning("attempt for %s left to its lease", claim.client_id)
                return
            try:
                claim.outcome = await self._attempt(claim)
            except Exception:
                logger.exception("sending the invitation of %s failed", claim.client_id)

    async def _attempt(self, claim: _Claim) -> _Outcome:
        access, invitation, now = claim.access, claim.invitation, self.clock.now()
        try:
            office = await self._office_name(access.office_id, now)
            message = self.compose(access, invitation, claim.token, office, now)
        except HeaderInjection as exc:
            return _Outcome(f"{exc.code}: {exc.field}", permanent=True)
        except (HeaderParseError, ValueError, IndexError) as exc:
            return _Outcome(f"mail.invalid_address: {type(exc).__name__}", permanent=True)
        try:
            await self.mailer.send(message)
        except MailRefused as exc:
            return _Outcome(exc.reason, permanent=exc.permanent)
        return _Outcome()

    def _apply(self, access: ClientAccess, claim: _Claim, outcome: _Outcome) -> bool:
        invitation_id, now = claim.invitation.invitation_id, self.clock.now()
        if outcome.error is None:
            return access.sending_succeeded(invitation_id, now)
        if outcome.permanent:
            return access.sending_failed(invitation_id, now, outcome.error)
        return access.sending_deferred(
            invitation_id, claim.hashed, now, outcome.error, self.policy, self.jitter()
        )

    async def _record_all(self, claims: list[_Claim]) -> None:
        """Record the outcomes in one locked batch; ClientInvited is published at once."""
        later: list[_Claim] = []
        changed: dict[str, _Claim] = {}
        async with self.access.locked([c.client_id for c in claims]) as batch:
            accesses: list[ClientAccess] = []
            for claim in claims:
                access = batch.accesses.get(claim.client_id)
                if claim.client_id not in batch.locked:
                    later.append(claim)
                elif (
                    access is not None
                    and claim.outcome
                    and self._apply(access, claim, claim.outcome)
                ):
                    accesses.append(access)
                    changed[claim.client_id] = claim
            lost = await self.access.write_locked(
                accesses,
                publish_now=True,
                done_with={client_id: c.entry for client_id, c in changed.items()},
            )
        later.extend(changed[client_id] for client_id in lost)
        for claim in later:  # held by another writer meanwhile: one by one, waiting for it
            await self._record(claim)

    async def _record(self, claim: _Claim) -> None:
        if claim.outcome is None:
            return
        for _ in range(5):
            access = await self.access.get(claim.client_id)
            if access is None or not self._apply(access, claim, claim.outcome):
                return
            try:
                await self.access.save(access, publish_now=True, done_with=claim.entry)
            except Conflict:
                continue
            return
        logger.warning("could not record the outcome for %s; its lease will retry", claim.client_id)

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
        idle = self.poll_interval_s
        while True:
            try:
                looked_at = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("sender pass failed; retrying")
                looked_at = 0
            if looked_at >= self.batch:
                idle = self.poll_interval_s
                continue  # a full pass: more is due at once
            # Each poll scans the queue; while only offices over their quota (or future retries)
            # wait in it, thousands of entries would be scanned every second for hours. Empty
            # polls back off up to ``idle_max_s``; any write of the service wakes the sender.
            wait = self.poll_interval_s if looked_at else idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            woken = self._wake.is_set()
            self._wake.clear()
            busy = looked_at or woken
            idle = self.poll_interval_s if busy else min(idle * 2, self.idle_max_s)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="invitation-sender")

    async def stop(self) -> None:
        """Stop the loop and what was handed over (their leases bring them back)."""
        self._stopping = True
        tasks = [t for t in (self._task, *self._handed) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
