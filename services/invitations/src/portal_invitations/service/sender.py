"""The sender: sends the invitations that are due and records how each attempt ended.

A pass takes the due invitations (the longest waiting first), reserves them in their offices'
hourly quotas, and claims each attempt: a versioned write of the client that stores the new
link's hash and a lease. Then it sends the e-mails over the SMTP pool and records the outcomes
(with their ClientInvited events) in one transaction. A sender that dies after sending leaves
its lease to run out: the invitation is due again and goes out with the same Message-ID (at
least once, never lost; both links work, the invitation stays single use). An office over its
quota has its due invitations postponed to the next hour: delayed, never dropped; other offices
go on. Several passes run at once (while one records, the next sends), and several workers may
run: of concurrent claims of one attempt exactly one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError

from portal_invitations.domain.errors import HeaderInjection
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.tokens import new_token, token_hash
from portal_invitations.ports import Conflict, MailRefused
from portal_invitations.service.deps import Deps
from portal_servicekit.polling import PollingLoop

logger = logging.getLogger(__name__)

_OFFICE_NAME_TTL = timedelta(minutes=1)
_PASSES_AT_ONCE = 3
HAND_OVER = 1000  # new clients' attempts claimed in their insert and not yet recorded
_CHUNK = 100  # attempts recorded together: the SMTP pool stays busy while a chunk is recorded
HAND_OVER_WAIT_S = 30.0  # how long the consumer waits for room before storing them due


@dataclass
class _Outcome:
    error: str | None = None
    permanent: bool = False


@dataclass
class _Attempt:
    """One claimed attempt: the clear token only lives here and in the e-mail."""

    access: ClientAccess
    invitation: Invitation
    token: str
    hashed: str
    claimed_at: datetime
    outcome: _Outcome | None = None  # None: unknown, the lease will bring it back


class InvitationSender:
    def __init__(self, deps: Deps, jitter: Callable[[], float] = random.random) -> None:
        self.deps = deps
        self.rules = deps.sending
        self.jitter = jitter
        self._names: dict[str, tuple[str | None, datetime]] = {}
        self._smtp_slots = asyncio.Semaphore(self.rules.concurrency)
        self._passes = asyncio.Semaphore(_PASSES_AT_ONCE)
        self._running: set[asyncio.Task[None]] = set()
        self._in_hand = 0
        self._started = False  # only a running sender takes new clients' attempts in hand
        self._handed_back = asyncio.Condition()
        self._loop = PollingLoop(
            self._next_pass, name="invitation-sender", poll_interval_s=self.rules.poll_interval_s
        )

    async def send_due(self) -> int:
        """One whole pass (claim, send, record); returns how many invitations were due."""
        due, attempts = await self._claim_due()
        await self._send_and_record(attempts)
        return len(due)

    async def _next_pass(self) -> int:
        """The loop's pass: claims, then sends and records in the background, so the next
        pass claims while this one is on the wire."""
        await self._passes.acquire()
        try:
            due, attempts = await self._claim_due()
        except BaseException:
            self._passes.release()
            raise
        task = asyncio.create_task(self._send_and_record(attempts), name="invitations-pass")
        self._running.add(task)
        task.add_done_callback(self._done)
        return len(due)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._passes.release()
        if not task.cancelled() and task.exception() is not None:
            logger.error("sending a pass failed; leases bring it back", exc_info=task.exception())

    async def _claim_due(self) -> tuple[list[ClientAccess], list[_Attempt]]:
        now = self.deps.clock.now()
        due = await self.deps.to_send.due(now, self.rules.batch)
        allowed, full = await self._within_quota([a for a in due if a.due_for_sending(now)], now)
        attempts = [self._begin(access, now) for access in allowed]
        won = {a.client_id for a in await self.deps.to_send.claim([a.access for a in attempts])}
        for office_id, reopens in full.items():
            logger.info("office %s reached its hourly quota until %s", office_id, reopens)
            await self.deps.to_send.postpone(office_id, now, reopens)
        return due, [a for a in attempts if a.access.client_id in won]

    async def _within_quota(
        self, due: Sequence[ClientAccess], now: datetime
    ) -> tuple[list[ClientAccess], dict[str, datetime]]:
        """Those of ``due`` their offices' quotas allow now (one reservation per office), and
        when the offices that ran out reopen."""
        by_office: dict[str, list[ClientAccess]] = {}
        for access in due:
            by_office.setdefault(access.office_id, []).append(access)
        allowed: list[ClientAccess] = []
        full: dict[str, datetime] = {}
        for office_id, accesses in by_office.items():
            reservation = await self.deps.quota.reserve(office_id, now, len(accesses))
            allowed.extend(accesses[: reservation.granted])
            if reservation.reopens is not None:
                full[office_id] = reservation.reopens
        return allowed, full

    async def store_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        """Store never-stored clients (the consumer's, see Deps.store_new) with their due
        invitations already claimed, and send those at once: an imported invitation then costs
        one write (its outcome) after its insert instead of a read, a claim and the outcome.
        At most ``HAND_OVER`` attempts are in hand, two consumed batches (the consumer waits for
        room a while, Kafka being the buffer); the others, and those over their office's quota, are stored due, for
        the queue. A crash before an outcome is recorded leaves the lease to bring it back.
        Returns those someone else stored first (nothing of them stored)."""
        now = self.deps.clock.now()
        due = [a for a in accesses if a.due_for_sending(now)]
        if due and self._started:
            await self._room_for(len(due))
        room = max(0, HAND_OVER - self._in_hand) if self._started else 0
        allowed, _ = await self._within_quota(due[:room], now)
        attempts = [self._begin(access, now) for access in allowed]
        taken = await self.deps.access.add_new(accesses)
        lost = {a.client_id for a in taken}
        mine = [a for a in attempts if a.access.client_id not in lost]
        if mine:
            self._in_hand += len(mine)
            task = asyncio.create_task(self._hand_over(mine), name="invitations-handed-over")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return taken

    async def _room_for(self, wanted: int) -> None:
        needed = HAND_OVER - min(wanted, HAND_OVER)
        async with self._handed_back:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HAND_OVER_WAIT_S):  # not wait_for: see PollingLoop
                    await self._handed_back.wait_for(lambda: self._in_hand <= needed)

    async def _hand_over(self, attempts: list[_Attempt]) -> None:
        try:
            chunks = [attempts[i : i + _CHUNK] for i in range(0, len(attempts), _CHUNK)]
            await asyncio.gather(*(self._send_and_record(chunk) for chunk in chunks))
        finally:
            self._in_hand -= len(attempts)
            async with self._handed_back:
                self._handed_back.notify_all()

    def _begin(self, access: ClientAccess, now: datetime) -> _Attempt:
        token = new_token()
        hashed = token_hash(token)
        rules = self.rules
        invitation = access.begin_sending(hashed, now, rules.token_ttl, rules.retry)
        return _Attempt(access, invitation, token, hashed, now)

    async def _send_and_record(self, attempts: Sequence[_Attempt]) -> None:
        await asyncio.gather(*(self._deliver(attempt) for attempt in attempts))
        await self._record(attempts)

    async def _record(self, attempts: Sequence[_Attempt]) -> None:
        """The known outcomes, with their events, in one transaction."""
        known = [a for a in attempts if self._apply(a.access, a)]
        stale = await self.deps.access.save_many([a.access for a in known])
        for attempt in known:
            if attempt.access.client_id in stale:
                await self._record_again(attempt)

    async def _deliver(self, attempt: _Attempt) -> None:
        async with self._smtp_slots:
            if self.deps.clock.now() - attempt.claimed_at > self.rules.retry.lease / 2:
                # Waited too long (a slow relay): another sender may take it over when its
                # lease ends, so it is left to the lease rather than risk two e-mails.
                logger.warning("attempt for %s left to its lease", attempt.access.client_id)
                return
            try:
                attempt.outcome = await self._attempt(attempt)
            except Exception:
                logger.exception("sending the invitation of %s failed", attempt.access.client_id)

    async def _attempt(self, attempt: _Attempt) -> _Outcome:
        access, now = attempt.access, self.deps.clock.now()
        try:
            office = await self._office_name(access.office_id, now)
            message = self.deps.compose(access, attempt.invitation, attempt.token, office, now)
        except HeaderInjection as exc:
            return _Outcome(f"{exc.code}: {exc.field}", permanent=True)
        except (HeaderParseError, ValueError, IndexError) as exc:
            return _Outcome(f"mail.invalid_address: {type(exc).__name__}", permanent=True)
        try:
            await self.deps.mailer.send(message)
        except MailRefused as exc:
            return _Outcome(exc.reason, permanent=exc.permanent)
        return _Outcome()

    def _apply(self, access: ClientAccess, attempt: _Attempt) -> bool:
        """The outcome on ``access``; False when there is nothing to record any more."""
        outcome, invitation_id = attempt.outcome, attempt.invitation.invitation_id
        now = self.deps.clock.now()
        if outcome is None:
            return False
        if outcome.error is None:
            return access.sending_succeeded(invitation_id, now)
        if outcome.permanent:
            return access.sending_failed(invitation_id, now, outcome.error)
        return access.sending_deferred(
            invitation_id, attempt.hashed, now, outcome.error, self.rules.retry, self.jitter()
        )

    async def _record_again(self, attempt: _Attempt) -> None:
        """Changed meanwhile (a profile update, a revoke): apply the outcome to the fresh state."""
        client_id = attempt.access.client_id
        for _ in range(5):
            access = await self.deps.access.get(client_id)
            if access is None or not self._apply(access, attempt):
                return
            with contextlib.suppress(Conflict):
                await self.deps.access.save(access)
                return
        logger.warning("could not record the outcome for %s; its lease will retry", client_id)

    async def _office_name(self, office_id: str, now: datetime) -> str | None:
        cached = self._names.get(office_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        name = await self.deps.offices.name_of(office_id)
        self._names[office_id] = (name, now + _OFFICE_NAME_TTL)
        return name

    # --- the loop (a Background of the worker) -----------------------------------------------

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._started = True
        self._loop.start()

    async def stop(self) -> None:
        """Stop claiming and drop what is on the wire (the leases bring it back)."""
        self._started = False
        await self._loop.stop()
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with contextlib.suppress(asyncio.CancelledError):
                await task
