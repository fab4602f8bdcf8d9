"""In-memory fakes of the ports, for handler and sender tests (no I/O, same contracts)."""

from __future__ import annotations

import copy
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from portal_invitations.domain.model import ClientAccess
from portal_invitations.ports import (
    Added,
    Conflict,
    DueEntry,
    LockedClients,
    MailRefused,
    Reservation,
)
from portal_invitations.service.handlers import Dependencies


@dataclass
class FakeClientAccess:
    documents: dict[str, ClientAccess] = field(default_factory=dict)
    queue: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    published: list[object] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)  # clients another writer holds right now

    async def get(self, client_id: str) -> ClientAccess | None:
        stored = self.documents.get(client_id)
        return copy.deepcopy(stored) if stored is not None else None

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        for access in self.documents.values():
            if access.invitation is not None and token_hash in access.invitation.token_hashes:
                return copy.deepcopy(access)
        return None

    async def save(
        self,
        access: ClientAccess,
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: DueEntry | None = None,
    ) -> None:
        stored = self.documents.get(access.client_id)
        if (stored.version if stored is not None else 0) != access.version:
            raise Conflict(access.client_id)
        self.published.extend(access.events)
        access.events.clear()
        access.version += 1
        self.documents[access.client_id] = copy.deepcopy(access)
        due = access.send_due_at
        if due is not None and queue:
            self.queue[access.client_id] = (due, access.office_id, uuid.uuid4().hex)
        elif due is None and done_with is not None:
            if self.queue.get(access.client_id, (None, None, None))[2] == done_with.rev:
                del self.queue[access.client_id]

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        return {c: copy.deepcopy(self.documents[c]) for c in client_ids if c in self.documents}

    async def add_new(self, accesses: Sequence[ClientAccess], *, queue: bool = True) -> Added:
        taken = [a for a in accesses if a.client_id in self.documents]
        stored = [a for a in accesses if a.client_id not in self.documents]
        for access in stored:
            await self.save(access, queue=queue)
        queued = {
            a.client_id: DueEntry(a.client_id, *self.queue[a.client_id][1:])
            for a in stored
            if queue and a.send_due_at is not None
        }
        return Added(taken, queued)

    @asynccontextmanager
    async def locked(self, client_ids: Sequence[str]) -> AsyncIterator[LockedClients]:
        mine = [c for c in client_ids if c not in self.busy]
        yield LockedClients(frozenset(mine), await self.get_many(mine))

    async def write_locked(
        self,
        accesses: Sequence[ClientAccess],
        *,
        queue: bool = True,
        publish_now: bool = False,
        done_with: Mapping[str, DueEntry] | None = None,
    ) -> set[str]:
        lost: set[str] = set()
        for access in accesses:
            try:
                await self.save(
                    access, queue=queue, done_with=(done_with or {}).get(access.client_id)
                )
            except Conflict:
                lost.add(access.client_id)
        return lost

    async def due_for_sending(
        self, now: datetime, limit: int, skip_offices: frozenset[str]
    ) -> list[DueEntry]:
        due = [
            DueEntry(client_id, office, rev)
            for client_id, (at, office, rev) in self.queue.items()
            if at <= now and office not in skip_offices
        ]
        return due[:limit]

    async def release_due_locked(self, entry: DueEntry, due_at: datetime | None) -> None:
        current = self.queue.get(entry.client_id)
        if current is None or current[2] != entry.rev:
            return
        if due_at is None:
            del self.queue[entry.client_id]
        else:
            self.queue[entry.client_id] = (due_at, current[1], current[2])


@dataclass
class FakeOffices:
    names: dict[str, str] = field(default_factory=dict)

    async def name_of(self, office_id: str) -> str | None:
        return self.names.get(office_id)

    async def set_name(self, office_id: str, name: str) -> None:
        self.names[office_id] = name


@dataclass
class FakeQuota:
    per_hour: int = 0
    used: dict[tuple[str, datetime], int] = field(default_factory=dict)

    async def reserve(self, office_id: str, now: datetime, wanted: int = 1) -> Reservation:
        hour = now.replace(minute=0, second=0, microsecond=0)
        if not self.per_hour:
            return Reservation(wanted)
        used = self.used.get((office_id, hour), 0)
        granted = max(0, min(wanted, self.per_hour - used))
        self.used[(office_id, hour)] = used + granted
        return Reservation(granted, hour + timedelta(hours=1) if granted < wanted else None)


@dataclass
class FakeGuesses:
    limit: int = 1000
    hits: dict[str, int] = field(default_factory=dict)

    async def hit(self, key: str, now: datetime) -> timedelta | None:
        self.hits[key] = self.hits.get(key, 0) + 1
        return timedelta(minutes=1) if self.hits[key] > self.limit else None


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)
    refusals: deque[MailRefused] = field(default_factory=deque)

    async def send(self, message: EmailMessage) -> None:
        if self.refusals:
            raise self.refusals.popleft()
        self.sent.append(message)


class FakeHasher:
    async def hash(self, password: str) -> str:
        return f"hashed:{len(password)}"


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.moment = now or datetime(2026, 3, 2, 9, 10, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def fake_dependencies(clock: FixedClock | None = None) -> Dependencies:
    return Dependencies(
        access=FakeClientAccess(),
        offices=FakeOffices({"office-a": "Fiduciaire Dupont"}),
        hasher=FakeHasher(),
        ip_guesses=FakeGuesses(),
        token_guesses=FakeGuesses(),
        clock=clock or FixedClock(),
    )
