"""Every in-memory fake of the invitations service's ports (no I/O, the same contracts)."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from portal_invitations.adapters.invitation_mail import Sender, compose
from portal_invitations.domain.events import DomainEvent
from portal_invitations.domain.model import ClientAccess, Invitation
from portal_invitations.domain.office import OfficeProfile
from portal_invitations.domain.sending import RetryPolicy
from portal_invitations.ports import Conflict, MailRefused, Reservation
from portal_invitations.service.deps import Deps, SendingRules

SENDER = Sender("no-reply@portal.example", "Portail", "portal.example", "https://p/i?token={token}")


@dataclass
class FakeClientAccess:
    """The repository and the send queue. ``raced``: clients another writer changes right
    before this one writes them (its write is lost, as a stale version would be)."""

    documents: dict[str, ClientAccess] = field(default_factory=dict)
    due_at: dict[str, datetime] = field(default_factory=dict)
    published: list[DomainEvent] = field(default_factory=list)
    raced: set[str] = field(default_factory=set)
    writes: int = 0

    async def get(self, client_id: str) -> ClientAccess | None:
        stored = self.documents.get(client_id)
        return copy.deepcopy(stored) if stored is not None else None

    async def get_many(self, client_ids: Sequence[str]) -> dict[str, ClientAccess]:
        return {c: copy.deepcopy(self.documents[c]) for c in client_ids if c in self.documents}

    async def by_token_hash(self, token_hash: str) -> ClientAccess | None:
        for access in self.documents.values():
            if access.invitation is not None and token_hash in access.invitation.token_hashes:
                return copy.deepcopy(access)
        return None

    async def save(self, access: ClientAccess) -> None:
        stored = self.documents.get(access.client_id)
        if (stored.version if stored else 0) != access.version or access.client_id in self.raced:
            raise Conflict(access.client_id)
        self.writes += 1
        self.published.extend(access.events)
        access.events.clear()
        access.version += 1
        self.documents[access.client_id] = copy.deepcopy(access)
        if access.send_due_at is not None:
            self.due_at[access.client_id] = access.send_due_at
        else:
            self.due_at.pop(access.client_id, None)

    async def save_many(self, accesses: Sequence[ClientAccess]) -> set[str]:
        lost: set[str] = set()
        for access in accesses:
            try:
                await self.save(access)
            except Conflict:
                lost.add(access.client_id)
        return lost

    async def add_new(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        taken = [a for a in accesses if a.client_id in self.documents]
        await self.save_many([a for a in accesses if a.client_id not in self.documents])
        return taken

    async def due(self, now: datetime, limit: int) -> list[ClientAccess]:
        due = sorted((at, c) for c, at in self.due_at.items() if at <= now)
        return [copy.deepcopy(self.documents[c]) for _, c in due[:limit]]

    async def claim(self, accesses: Sequence[ClientAccess]) -> list[ClientAccess]:
        lost = await self.save_many(accesses)
        return [a for a in accesses if a.client_id not in lost]

    async def postpone(self, office_id: str, now: datetime, until: datetime) -> None:
        for client_id, at in self.due_at.items():
            if at <= now and self.documents[client_id].office_id == office_id:
                self.due_at[client_id] = until


@dataclass
class FakeOffices:
    names: dict[str, str] = field(default_factory=dict)
    kept: dict[str, tuple[int, OfficeProfile]] = field(default_factory=dict)

    async def profile_of(self, office_id: str) -> OfficeProfile | None:
        if office_id in self.kept:
            return self.kept[office_id][1]
        name = self.names.get(office_id)
        return OfficeProfile(name) if name else None

    async def remember(self, office_id: str, version: int, profile: OfficeProfile) -> bool:
        if office_id in self.kept and self.kept[office_id][0] >= version:
            return False
        self.kept[office_id] = (version, profile)
        return True


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
class FakeFailures:
    limit: int = 1000
    failures: dict[str, int] = field(default_factory=dict)

    async def record(self, key: str, now: datetime) -> timedelta | None:
        self.failures[key] = self.failures.get(key, 0) + 1
        return await self.wait(key, now, past=self.limit)

    async def wait(self, key: str, now: datetime, past: int | None = None) -> timedelta | None:
        over = self.failures.get(key, 0) > (self.limit - 1 if past is None else past)
        return timedelta(minutes=1) if over else None


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


def _compose(
    access: ClientAccess, inv: Invitation, token: str, office: OfficeProfile | None, now: datetime
) -> EmailMessage:
    return compose(access, inv, token, office, SENDER, now)


def fake_dependencies(clock: FixedClock | None = None, *, quota: FakeQuota | None = None) -> Deps:
    store = FakeClientAccess()
    return Deps(
        access=store,
        to_send=store,
        offices=FakeOffices({"office-a": "Fiduciaire Dupont"}),
        quota=quota or FakeQuota(),
        mailer=FakeMailer(),
        compose=_compose,
        hasher=FakeHasher(),
        address_failures=FakeFailures(),
        link_failures=FakeFailures(),
        clock=clock or FixedClock(),
        sending=SendingRules(retry=RetryPolicy(base=timedelta(seconds=10))),
    )
