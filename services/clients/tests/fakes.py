"""Every fake of the clients service, in memory, for handler tests (no mocks of our own code)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from portal_clients.domain.errors import Conflict, FieldIssue, RowsRefused, StaleVersion
from portal_clients.domain.listing import (
    ClientPage,
    ClientQuery,
    ClientSummary,
    finish_page,
    search_terms,
)
from portal_clients.domain.model import Client, ClientEvent, reference_key
from portal_clients.domain.office import Group, OfficeProfile, OfficeSettings
from portal_clients.domain.vat import RegisterAnswer, RegisterVerdict
from portal_clients.ports import Holder, ImportChunk, ImportLine, ImportStatus, RepublishedPage
from portal_clients.service.deps import Deps
from portal_contracts.clients import ClientState
from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_contracts.values import TransferMethod


class FixedClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def _holder(client: Client) -> Holder:
    company = client.data.company
    return Holder(
        client.client_id,
        client.office_id,
        client.data.group_id,
        client.data.user.email,
        company.vat_number,
        company.internal_reference,
    )


class FakeClients:
    def __init__(self) -> None:
        self.rows: dict[str, Client] = {}
        self.published: list[ClientEvent] = []
        self.published_states: list[ClientState] = []

    def _refuse_duplicates(self, client: Client) -> None:
        ref = reference_key(client.data.company.internal_reference)
        for other in self.rows.values():
            if other.client_id == client.client_id:
                continue
            if not (other.holds_claims and client.holds_claims):
                pass  # a released archived client holds no e-mail or VAT number
            elif other.data.user.email == client.data.user.email:
                raise Conflict("client.conflict", [FieldIssue("user.email", "email.taken")])
            elif other.data.company.vat_number == client.data.company.vat_number:
                code = (
                    "vat.taken_in_office"
                    if other.office_id == client.office_id
                    else "company.on_platform"
                )
                raise Conflict(code, [FieldIssue("company.vat_number", code)])
            same_office = other.office_id == client.office_id
            if ref and same_office and reference_key(other.data.company.internal_reference) == ref:
                raise Conflict(
                    "client.conflict", [FieldIssue("company.internal_reference", "reference.taken")]
                )

    async def get(self, client_id: str) -> Client | None:
        found = self.rows.get(client_id)
        return copy.deepcopy(found) if found is not None else None

    async def add(self, client: Client) -> None:
        if client.client_id in self.rows:
            raise AssertionError("client ids are unique")
        self._refuse_duplicates(client)
        self.published.extend(client.pull_events())
        self.rows[client.client_id] = copy.deepcopy(client)

    async def save(self, client: Client, based_on: int) -> None:
        current = self.rows[client.client_id]
        if current.version != based_on:
            raise StaleVersion(current.version)
        self._refuse_duplicates(client)
        self.published.extend(client.pull_events())
        self.rows[client.client_id] = copy.deepcopy(client)

    async def republish_states(
        self, after: str | None, limit: int, *, office_id: str | None = None
    ) -> RepublishedPage:
        ids = sorted(
            i
            for i, c in self.rows.items()
            if (after is None or i > after) and office_id in (None, c.office_id)
        )[:limit]
        self.published_states += [
            ClientState.of(self.rows[i].office_id, self.rows[i].snapshot(), None) for i in ids
        ]
        return RepublishedPage(ids[-1] if ids else None, len(ids))

    async def page(self, query: ClientQuery) -> ClientPage:
        rows = [c.summary() for c in self.rows.values() if self._listed(c, query)]
        rows.sort(key=lambda s: s.sort_value(query.sort), reverse=query.descending)
        if query.after is not None:
            mark = query.after.after
            rows = [
                r
                for r in rows
                if (
                    r.sort_value(query.sort) < mark
                    if query.descending
                    else r.sort_value(query.sort) > mark
                )
            ]
        return finish_page(rows[: query.limit + 1], query)

    @staticmethod
    def _listed(client: Client, query: ClientQuery) -> bool:
        summary: ClientSummary = client.summary()
        words = summary.search_words()
        prefix = f"{query.office_id}\x1f"
        return (
            client.office_id == query.office_id
            and (query.statuses is None or client.status in query.statuses)
            and (query.groups is None or client.data.group_id in query.groups)
            and query.subscription_mode in (None, client.data.company.subscription_mode)
            and query.transfer_method in (None, client.data.integration.target.kind)
            and (client.archived is not None) == query.archived
            and all(any(w.startswith(prefix + t) for w in words) for t in search_terms(query.text))
        )

    async def holders(self, emails: Sequence[str], vat_numbers: Sequence[str]) -> list[Holder]:
        return [
            _holder(c)
            for c in self.rows.values()
            if c.holds_claims
            and (c.data.user.email in emails or c.data.company.vat_number in vat_numbers)
        ]

    async def release_claims(self, now: datetime) -> int:
        released = 0
        for c in self.rows.values():
            a = c.archived
            if a is not None and not a.claims_released and a.claims_until <= now:
                c.archived = replace(a, claims_released=True)
                c.version += 1
                released += 1
        return released

    async def reference_holders(self, office_id: str, references: Sequence[str]) -> list[Holder]:
        return [
            _holder(c)
            for c in self.rows.values()
            if c.office_id == office_id
            and reference_key(c.data.company.internal_reference) in references
        ]

    async def ids_in_group(self, office_id: str, group_id: str) -> list[str]:
        return [
            c.client_id
            for c in self.rows.values()
            if c.office_id == office_id and c.data.group_id == group_id
        ]

    async def due_recheck(self, now: datetime, lease: timedelta) -> Client | None:
        due = [c for c in self.rows.values() if c.recheck and c.recheck.due_at <= now]
        if not due:
            return None
        first = min(due, key=lambda c: c.recheck.due_at if c.recheck else now)
        assert first.recheck is not None
        first.recheck = replace(first.recheck, due_at=now + lease)  # the claim's lease
        return copy.deepcopy(first)


class FakeGroups:
    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], Group] = {}

    async def all(self, office_id: str) -> list[Group]:
        self.groups.setdefault((office_id, "everyone"), Group.everyone(office_id))
        return [copy.deepcopy(g) for (o, _), g in self.groups.items() if o == office_id]

    async def add(self, group: Group) -> None:
        self.groups[(group.office_id, group.group_id)] = copy.deepcopy(group)

    async def save(self, group: Group, based_on: int) -> None:
        current = self.groups[(group.office_id, group.group_id)]
        if current.version != based_on:
            raise StaleVersion(current.version)
        self.groups[(group.office_id, group.group_id)] = copy.deepcopy(group)

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


class FakeProfiles:
    def __init__(self) -> None:
        self.stored: dict[str, tuple[OfficeProfile, int]] = {}

    async def get(self, office_id: str) -> tuple[OfficeProfile | None, int]:
        return self.stored.get(office_id, (None, 0))

    async def save(self, office_id: str, profile: OfficeProfile, expected_version: int) -> int:
        _, current = await self.get(office_id)
        if current != expected_version:
            raise StaleVersion(current)
        self.stored[office_id] = (profile, current + 1)
        return current + 1


class FakeConnectionNames:
    def __init__(self) -> None:
        self.stored: dict[str, tuple[int, dict[str, TransferMethod]]] = {}

    async def of(self, office_id: str) -> dict[str, TransferMethod] | None:
        found = self.stored.get(office_id)
        return None if found is None else dict(found[1])

    async def keep_newest(
        self, office_id: str, version: int, connections: dict[str, TransferMethod]
    ) -> bool:
        if office_id in self.stored and self.stored[office_id][0] >= version:
            return False
        self.stored[office_id] = (version, dict(connections))
        return True


class FakeRegister:
    def __init__(self) -> None:
        self.verdicts: dict[str, RegisterVerdict] = {}
        self.asked: list[str] = []

    async def check(self, vat_number: str) -> RegisterAnswer:
        self.asked.append(vat_number)
        return RegisterAnswer(self.verdicts.get(vat_number, RegisterVerdict.VALID))


class FakeQuota:
    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self.used: dict[str, int] = {}

    async def take(self, key: str, amount: int, now: datetime) -> timedelta | None:
        self.used[key] = self.used.get(key, 0) + amount
        return None if self.used[key] <= self.limit else timedelta(minutes=30)


class FakeImports:
    """All or none by construction: clients go to the store only at the commit."""

    def __init__(self, clients: FakeClients) -> None:
        self.clients = clients
        self.chunks: dict[str, dict[int, list[ImportLine]]] = {}
        self.counts: dict[str, int] = {}
        self.outcomes: dict[str, str] = {}
        self.answers: list[ImportCommitted | ImportRejected] = []

    async def receive(self, chunk: ImportChunk) -> ImportStatus:
        if chunk.key in self.outcomes:
            return ImportStatus.DONE
        self.counts[chunk.key] = chunk.count
        self.chunks.setdefault(chunk.key, {}).setdefault(chunk.index, chunk.lines)
        complete = len(self.chunks[chunk.key]) == chunk.count
        return ImportStatus.COMPLETE if complete else ImportStatus.OPEN

    async def lines(self, key: str) -> list[ImportLine]:
        return [line for _, lines in sorted(self.chunks[key].items()) for line in lines]

    async def commit(self, key: str, clients: list[Client], answer: list[ImportCommitted]) -> None:
        for client in clients:
            try:
                self.clients._refuse_duplicates(client)
            except Conflict as conflict:
                raise RowsRefused({client.client_id: conflict.issues[0]}) from conflict
        for client in clients:
            await self.clients.add(client)
        self.outcomes[key] = "committed"
        self.answers.extend(answer)

    async def reject(self, key: str, answer: list[ImportRejected]) -> None:
        self.outcomes[key] = "rejected"
        self.answers.extend(answer)


def fake_deps() -> Deps:
    clients = FakeClients()
    return Deps(
        clients=clients,
        groups=FakeGroups(),
        settings=FakeSettings(),
        profiles=FakeProfiles(),
        connections=FakeConnectionNames(),
        register=FakeRegister(),
        imports=FakeImports(clients),
        quota=FakeQuota(),
        clock=FixedClock(),
    )
