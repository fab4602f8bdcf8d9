"""A delivery: one document to one target, with its state, its attempts and their proof.

States::

    planned ──(processed)──▶ scheduled ──(due: dispatch)──▶ dispatched ──(a worker starts)──▶ sending
       │                        ▲  ▲                            │ lease ran out: dispatched again  │
       │                        │  └────────(transient failure: back-off)──────────────────────────┤
       │                        └──(retry by the accountant)── failed ◀──(permanent / gave up)─────┤
       └──▶ cancelled (document deleted, target removed)                        sent ◀─────────────┘
    recorded: a manual target (nothing is sent; the ledger says so)
    pulled (agent): due ──▶ available ──(an agent leases it)──▶ sending ──(its ack)──▶ sent; a lease
       that runs out makes it available again (domain/pull.py)

Every change is decided here (no I/O); the adapter saves it with the version in the filter and
the events in the same transaction. An attempt keeps the proof of what was sent (sha256 and
size of each file, the channel's receipt) and, when it failed, the reason in codes the HTTP edge
turns into the accountant's language.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from portal_contracts.delivery import (
    DeliveryFailed,
    DeliveryFailedPayload,
    DeliveryRequested,
    DeliveryRequestedPayload,
    DocumentDelivered,
    DocumentDeliveredPayload,
)
from portal_contracts.envelope import Envelope
from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.domain.retry import RetryPolicy


class State(StrEnum):
    PLANNED = "planned"  # waits for the document to be processed
    SCHEDULED = "scheduled"  # waits for its due time (first attempt or a retry)
    DISPATCHED = "dispatched"  # "deliver now" is on its channel's topic
    SENDING = "sending"  # a channel worker is at it (or an agent holds its lease)
    AVAILABLE = "available"  # pulled by the office's agent: waits for it to fetch the files
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECORDED = "recorded"  # manual: nothing to send


OPEN = frozenset({State.PLANNED, State.SCHEDULED, State.DISPATCHED, State.SENDING, State.AVAILABLE})


@dataclass(frozen=True)
class FileRef:
    """A file of the document as stored (claim check), and the name it is delivered under."""

    role: str  # "ubl" | "pdf"
    blob_id: str
    sha256: str
    size: int
    name: str
    media_type: str


@dataclass(frozen=True)
class Problem:
    """Why an attempt failed: ``code`` picks the accountant's message; ``detail`` is what the
    remote side said (never a secret)."""

    code: str
    detail: str = ""
    retryable: bool = True
    retry_after: timedelta | None = None


class ChannelError(Exception):
    """A channel could not deliver; the problem says why and whether a retry may help."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.code}: {problem.detail}")
        self.problem = problem


@dataclass(frozen=True)
class Receipt:
    """What the channel answered, as proof: a Message-ID and queue reply, a remote path…"""

    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attempt:
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "sending"  # sending | sent | retry | failed
    sent: list[dict[str, Any]] = field(default_factory=list)  # name, sha256, size per file
    receipt: dict[str, Any] = field(default_factory=dict)
    problem: dict[str, Any] | None = None
    resumed: bool = False  # taken over from a worker that died mid-attempt: files may be there
    # What the channel noted while at it (an upload session, the id an API returned, an agent's
    # lease), so that an attempt resumed after a crash continues instead of starting over.
    progress: dict[str, Any] = field(default_factory=dict)
    retry_at: datetime | None = None  # a transient failure: when it is tried again


@dataclass
class Delivery:
    delivery_id: str
    office_id: str
    client_id: str
    group_id: str
    document_id: str
    kind: DocumentKind
    channel: TransferMethod
    destination: str  # an e-mail address, a connection name…
    folder: str  # where in the destination (sFTP, OneDrive, agent); "" for e-mail
    files: list[FileRef]
    state: State
    due_at: datetime | None
    created_at: datetime
    timing: dict[str, Any]  # the resolved policy, kept for audit
    correlation_id: str
    ready_at: datetime | None = None  # when the document was ready (timing is counted from it)
    package: str = ""  # the client's accounting software (its limits and habits)
    attempts: list[Attempt] = field(default_factory=list)
    last_problem: Problem | None = None
    failures_in_row: int = 0
    version: int = 0
    events: list[Envelope[Any]] = field(default_factory=list)

    @property
    def attempt(self) -> int:
        return len(self.attempts)

    # --- the scheduler ------------------------------------------------------------------------

    def dispatch(self, now: datetime, lease: timedelta) -> None:
        """Due: put "deliver now" on the channel's topic. The lease brings it back if no worker
        takes it (a lost request, a dead worker). A pulled channel (the agent) has no topic: the
        delivery becomes *available* to the agent instead, and stays so until one leases it."""
        if self.state not in {State.SCHEDULED, State.DISPATCHED, State.SENDING}:
            raise ValueError(f"cannot dispatch a {self.state} delivery")
        if self.state is State.SENDING and self.attempts:
            # The worker died mid-attempt: that attempt is retried under the same number, so the
            # same Message-ID / file name is used and the remote side can recognise it.
            number = self.attempts[-1].number
            self.attempts[-1].resumed = True
        else:
            number = self.attempt + 1
            self.attempts.append(Attempt(number, now, outcome="dispatched"))
        if self.channel is TransferMethod.AGENT:
            self.state, self.due_at = State.AVAILABLE, now  # due_at: available since
            return
        self.state, self.due_at = State.DISPATCHED, now + lease
        self._record(
            DeliveryRequested.new(
                office_id=self.office_id,
                correlation_id=_uuid(self.correlation_id),
                payload=DeliveryRequestedPayload(
                    delivery_id=self.delivery_id,
                    attempt=number,
                    channel=self.channel,
                    destination=self.destination,
                ),
            )
        )

    # --- a channel worker ---------------------------------------------------------------------

    def start(self, attempt: int, now: datetime, lease: timedelta) -> bool:
        """Take the request for ``attempt``; False when it is stale (a duplicate request, an
        attempt already done, a delivery cancelled meanwhile) or when another worker is at it
        and its lease has not run out (a request redelivered after a crash waits for the lease,
        so two workers never write the same files at once)."""
        if self.state not in {State.DISPATCHED, State.SENDING} or attempt != self.attempt:
            return False
        if self.state is State.SENDING and self.due_at is not None and self.due_at > now:
            return False
        current = self.attempts[-1]
        current.outcome, current.started_at = "sending", now
        self.state, self.due_at = State.SENDING, now + lease
        return True

    def succeed(self, receipt: Receipt, sent: list[dict[str, Any]], now: datetime) -> None:
        current = self.attempts[-1]
        current.finished_at, current.outcome = now, "sent"
        current.sent, current.receipt = sent, {"summary": receipt.summary, **receipt.details}
        self.state, self.due_at, self.last_problem, self.failures_in_row = (
            State.SENT,
            None,
            None,
            0,
        )
        self._record(
            DocumentDelivered.new(
                office_id=self.office_id,
                correlation_id=_uuid(self.correlation_id),
                payload=DocumentDeliveredPayload(
                    document_id=self.document_id,
                    client_id=self.client_id,
                    channel=self.channel,
                    receipt=receipt.summary,
                    delivered_at=now,
                    delivery_id=self.delivery_id,
                ),
            )
        )

    def fail(
        self, problem: Problem, now: datetime, policy: RetryPolicy, rng: random.Random
    ) -> None:
        """A failed attempt: try again later while it may help, otherwise failed for good."""
        current = self.attempts[-1]
        current.finished_at = now
        current.problem = {"code": problem.code, "detail": problem.detail}
        if problem.retry_after is not None:
            current.problem["retry_after_s"] = problem.retry_after.total_seconds()
        self.last_problem = problem
        self.failures_in_row += 1
        gave_up = now - self.created_at >= policy.give_up_after
        if problem.retryable and not gave_up:
            current.outcome = "retry"
            self.state = State.SCHEDULED
            self.due_at = now + policy.delay(self.failures_in_row, rng, problem.retry_after)
            current.retry_at = self.due_at
            return
        current.outcome = "failed"
        self._give_up(problem, now, gave_up)

    def postpone(self, until: datetime, problem: Problem) -> None:
        """Not attempted (the destination is paused): due again at ``until``, same attempt."""
        self.state, self.due_at, self.last_problem = State.SCHEDULED, until, problem
        if self.attempts and self.attempts[-1].outcome in {"dispatched", "sending"}:
            self.attempts.pop()  # nothing was sent under that number

    # --- the accountant, the document, the settings --------------------------------------------

    def retry(self, now: datetime) -> None:
        if self.state is not State.FAILED:
            raise ValueError("only a failed delivery can be retried")
        self.state, self.due_at, self.failures_in_row = State.SCHEDULED, now, 0
        self.created_at = now  # a new window before giving up again

    def cancel(self, problem: Problem) -> None:
        if self.state in OPEN:
            self.state, self.due_at, self.last_problem = State.CANCELLED, None, problem

    def reschedule(self, due_at: datetime | None, timing: dict[str, Any]) -> bool:
        """The office or the client changed its timing: what is not sent yet follows it."""
        if self.state not in {State.PLANNED, State.SCHEDULED}:
            return False
        self.timing = timing
        self.state = State.PLANNED if due_at is None else State.SCHEDULED
        self.due_at = due_at
        return True

    def processed(self, due_at: datetime) -> None:
        if self.state is State.PLANNED:
            self.state, self.due_at = State.SCHEDULED, due_at

    # --- helpers -------------------------------------------------------------------------------

    def _give_up(self, problem: Problem, now: datetime, gave_up: bool) -> None:
        self.state, self.due_at = State.FAILED, None
        self._record(
            DeliveryFailed.new(
                office_id=self.office_id,
                correlation_id=_uuid(self.correlation_id),
                payload=DeliveryFailedPayload(
                    document_id=self.document_id,
                    client_id=self.client_id,
                    channel=self.channel,
                    reason=problem.code if not gave_up else f"{problem.code} (gave up)",
                    retryable=problem.retryable,
                    attempts=self.attempt,
                    delivery_id=self.delivery_id,
                ),
            )
        )

    def _record(self, event: Envelope[Any]) -> None:
        self.events.append(event)

    def pull_events(self) -> list[Envelope[Any]]:
        events, self.events = self.events, []
        return events


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
