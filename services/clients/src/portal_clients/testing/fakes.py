"""In-memory stand-ins for the ports, for handler unit tests (no mocks of our own code)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

from portal_clients.adapters.documents import summary_of
from portal_clients.domain.errors import Conflict, FieldIssue, StaleVersion
from portal_clients.domain.listing import ClientPage, ClientQuery, page_of
from portal_clients.domain.model import Client, ClientEvent
from portal_clients.domain.office import Group, OfficeSettings
from portal_clients.domain.vat import RegisterAnswer, RegisterVerdict
from portal_clients.ports import ImportRecord, PendingCheck
from portal_clients.service.deps import Deps
from portal_contracts.imports import ImportCommitted, ImportRejected, RejectedRow


class FixedClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()

    def advance(self, delta: timedelta) -> None:
        self.at += delta


class FakeClients:
    def __init__(self) -> None:
        self.rows: dict[str, Client] = {}
        self.hidden: set[str] = set()
        self.vats: dict[str, tuple[str, str]] = {}  # vat -> (office, client)
        self.published: list[ClientEvent] = []

    def _check_unique(self, client: Client) -> None:
        for other in self.rows.values():
            if other.client_id == client.client_id:
                continue
            if other.data.user.email == client.data.user.email:
                raise Conflict("client.conflict", [FieldIssue("user.email", "email.taken")])
            ref, other_ref = (
                client.data.company.internal_reference,
                other.data.company.internal_reference,
            )
            if (
                ref
                and other.office_id == client.office_id
                and (other_ref or "").casefold() == ref.casefold()
            ):
                raise Conflict(
                    "client.conflict", [FieldIssue("company.internal_reference", "reference.taken")]
                )
        vat = client.data.company.vat_number
        owner = self.vats.get(vat)
        if owner is not None and owner[1] != client.client_id:
            code = "vat.taken_in_office" if owner[0] == client.office_id else "company.on_platform"
            raise Conflict(code, [FieldIssue("company.vat_number", code)])

    async def get(self, client_id: str) -> Client | None:
        found = self.rows.get(client_id)
        return None if found is None or client_id in self.hidden else copy.deepcopy(found)

    async def claim_vat(self, vat: str, office_id: str, client_id: str) -> None:
        owner = self.vats.get(vat)
        if owner is not None and owner[1] != client_id:
            code = "vat.taken_in_office" if owner[0] == office_id else "company.on_platform"
            raise Conflict(code, [FieldIssue("company.vat_number", code)])
        self.vats[vat] = (office_id, client_id)

    async def release_vat(self, vat: str, client_id: str) -> None:
        if self.vats.get(vat, ("", ""))[1] == client_id:
            del self.vats[vat]

    async def add(self, client: Client, *, vat_claimed: bool = False) -> None:
        self._check_unique(client)
        self.published.extend(client.pull_events())
        self.rows[client.client_id] = copy.deepcopy(client)
        self.vats[client.data.company.vat_number] = (client.office_id, client.client_id)

    @contextlib.asynccontextmanager
    async def edit(self, client_id: str) -> AsyncIterator[Client | None]:
        client = await self.get(client_id)
        yield client
        if client is not None and client.events:
            self._check_unique(client)
            old_vat = self.rows[client_id].data.company.vat_number
            self.vats.pop(old_vat, None)
            self.vats[client.data.company.vat_number] = (client.office_id, client_id)
            self.published.extend(client.pull_events())
            self.rows[client_id] = copy.deepcopy(client)

    async def page(self, query: ClientQuery) -> ClientPage:
        visible = [summary_of(c) for c in self.rows.values() if c.client_id not in self.hidden]
        return page_of(
            (s for s in visible if _office_of(self, s.client_id) == query.office_id), query
        )

    async def taken_emails(self, emails: list[str]) -> set[str]:
        return {c.data.user.email for c in self.rows.values()} & set(emails)

    async def vat_owners(self, vats: list[str]) -> dict[str, str]:
        return {v: self.vats[v][0] for v in vats if v in self.vats}

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]:
        return [
            c.client_id
            for c in self.rows.values()
            if c.office_id == office_id and c.data.group_id == group_id
        ]


def _office_of(store: FakeClients, client_id: str) -> str:
    return store.rows[client_id].office_id


class FakeGroups:
    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], Group] = {}

    async def all(self, office_id: str) -> list[Group]:
        self.groups.setdefault((office_id, "everyone"), Group.everyone(office_id))
        return [copy.deepcopy(g) for (o, _), g in self.groups.items() if o == office_id]

    async def add(self, group: Group) -> None:
        self.groups[(group.office_id, group.group_id)] = copy.deepcopy(group)

    @contextlib.asynccontextmanager
    async def edit(self, office_id: str, group_id: str) -> AsyncIterator[Group | None]:
        group = copy.deepcopy(self.groups.get((office_id, group_id)))
        yield group
        if group is not None:
            self.groups[(office_id, group_id)] = group

    async def delete(self, office_id: str, group_id: str) -> None:
        self.groups.pop((office_id, group_id), None)


class FakeSettings:
    def __init__(self, settings: OfficeSettings | None = None) -> None:
        self.stored: dict[str, tuple[OfficeSettings, int]] = {}
        self.default = settings or OfficeSettings()

    async def get(self, office_id: str) -> tuple[OfficeSettings, int]:
        return self.stored.get(office_id, (self.default, 0))

    async def save(self, office_id: str, settings: OfficeSettings, expected_version: int) -> int:
        _, current = await self.get(office_id)
        if current != expected_version:
            raise StaleVersion(current)
        self.stored[office_id] = (settings, current + 1)
        return current + 1


class FakeRegister:
    def __init__(self) -> None:
        self.verdicts: dict[str, RegisterVerdict] = {}
        self.asked: list[str] = []

    async def check(self, vat_number: str) -> RegisterAnswer:
        self.asked.append(vat_number)
        return RegisterAnswer(self.verdicts.get(vat_number, RegisterVerdict.VALID))


class FakeRechecks:
    def __init__(self) -> None:
        self.checks: dict[str, PendingCheck] = {}

    async def schedule(self, check: PendingCheck) -> None:
        self.checks[check.client_id] = check

    async def schedule_many(self, checks: list[PendingCheck]) -> None:
        for check in checks:
            self.checks.setdefault(check.client_id, check)

    async def due(self, now: datetime, limit: int) -> list[PendingCheck]:
        return [c for c in self.checks.values() if c.due_at <= now][:limit]

    async def drop(self, client_id: str) -> None:
        self.checks.pop(client_id, None)


class FakeImports:
    def __init__(self, clients: FakeClients) -> None:
        self.clients = clients
        self.records: dict[str, ImportRecord] = {}
        self.members: dict[str, set[str]] = {}
        self.pending: dict[str, list[ClientEvent]] = {}  # ClientCreated held until the commit
        self.answers: list[ImportCommitted | ImportRejected] = []

    async def begin(self, key: str, office_id: str, chunk_count: int) -> ImportRecord:
        record = self.records.setdefault(key, ImportRecord(key, office_id, chunk_count))
        return copy.deepcopy(record)

    async def insert_hidden(
        self, key: str, index: int, clients: list[Client]
    ) -> list[tuple[str, str, str]]:
        refused: list[tuple[str, str, str]] = []
        for client in clients:
            if client.client_id in self.clients.rows:
                continue
            events = client.pull_events()
            try:
                await self.clients.add(client)
            except Conflict as conflict:
                issue = conflict.issues[0]
                refused.append((client.client_id, issue.field, issue.code))
                continue
            self.clients.hidden.add(client.client_id)
            self.members.setdefault(key, set()).add(client.client_id)
            self.pending.setdefault(key, []).extend(events)
        return refused

    async def record_chunk(
        self, key: str, index: int, lost: list[RejectedRow], created: dict[int, str]
    ) -> None:
        record = self.records[key]
        record.chunks.add(index)
        record.lost.extend(lost)
        record.client_ids.update(created)

    async def commit(self, key: str, answer: list[ImportCommitted]) -> None:
        self.clients.hidden -= self.members.get(key, set())
        self.clients.published.extend(self.pending.pop(key, []))
        self.records[key].state = "committed"
        self.answers.extend(answer)

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        self.pending.pop(key, None)
        for client_id in self.members.pop(key, set()):
            client = self.clients.rows.pop(client_id)
            self.clients.vats.pop(client.data.company.vat_number, None)
            self.clients.hidden.discard(client_id)
        self.records[key].state = "rejected"
        self.answers.extend(answer)

    async def state(self, key: str) -> str | None:
        record = self.records.get(key)
        return record.state if record else None


def fake_deps() -> Deps:
    clients = FakeClients()
    return Deps(
        clients=clients,
        groups=FakeGroups(),
        settings=FakeSettings(),
        register=FakeRegister(),
        rechecks=FakeRechecks(),
        imports=FakeImports(clients),
        clock=FixedClock(),
    )
