"""Every fake of the delivery service, in one place (no mocks): in-memory ports with the same
promises as the adapters (version checks, one delivery per id)."""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from portal_contracts.values import TransferMethod
from portal_delivery.domain.agents import AgentKey, token_digest
from portal_delivery.domain.connections import Connection, EmailIdentity, Kind
from portal_delivery.domain.delivery import (
    OPEN,
    ChannelError,
    Delivery,
    FileRef,
    Problem,
    Receipt,
    State,
)
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument
from portal_delivery.ports import ConnectionNameTaken, DeliveryQuery, Parcel, Stale
from portal_delivery.service.deps import Deps


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


class FakeRoutes:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], ClientRoute] = {}

    async def get(self, office_id: str, client_id: str) -> ClientRoute | None:
        return self.routes.get((office_id, client_id))

    async def keep_newest(self, route: ClientRoute) -> bool:
        stored = self.routes.get((route.office_id, route.client_id))
        if not route.is_newer_than(stored):
            return False
        self.routes[(route.office_id, route.client_id)] = route
        return True

    async def using(self, office_id: str, method: TransferMethod, connection: str | None) -> int:
        return sum(
            1
            for (office, _), route in self.routes.items()
            if office == office_id
            and route.integration.target.kind is method
            and (
                connection is None
                or getattr(route.integration.target, "connection", None) == connection
            )
        )


class FakeOffices:
    def __init__(self) -> None:
        self.offices: dict[str, OfficeDefaults] = {}

    async def get(self, office_id: str) -> OfficeDefaults:
        return self.offices.get(office_id, OfficeDefaults(office_id))

    async def keep_newest(self, defaults: OfficeDefaults) -> bool:
        if (await self.get(defaults.office_id)).version >= defaults.version:
            return False
        self.offices[defaults.office_id] = defaults
        return True


class FakeSenderNames:
    def __init__(self) -> None:
        self.names: dict[str, tuple[int, str]] = {}

    async def of(self, office_id: str) -> str | None:
        return self.names[office_id][1] if office_id in self.names else None

    async def keep_newest(self, office_id: str, version: int, sends_as: str) -> bool:
        if office_id in self.names and self.names[office_id][0] >= version:
            return False
        self.names[office_id] = (version, sends_as)
        return True


class FakeWaiting:
    def __init__(self) -> None:
        self.documents: dict[str, ReadyDocument] = {}

    async def park(self, document: ReadyDocument) -> None:
        self.documents.setdefault(document.document_id, document)

    async def take(self, office_id: str, client_id: str) -> list[ReadyDocument]:
        return [
            d
            for d in self.documents.values()
            if (d.office_id, d.client_id) == (office_id, client_id)
        ]

    async def done(self, document_id: str) -> None:
        self.documents.pop(document_id, None)


class FakeLedger:
    def __init__(self) -> None:
        self.stored: dict[str, Delivery] = {}
        self.published: list[Any] = []

    async def add(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        new = [d for d in deliveries if d.delivery_id not in self.stored]
        for delivery in new:
            delivery.version = 1
            self.published += delivery.pull_events()
            self.stored[delivery.delivery_id] = copy.deepcopy(delivery)
        return new

    async def get(self, delivery_id: str) -> Delivery | None:
        found = self.stored.get(delivery_id)
        return copy.deepcopy(found) if found else None

    async def save(self, delivery: Delivery) -> None:
        stored = self.stored.get(delivery.delivery_id)
        if stored is None or stored.version != delivery.version:
            raise Stale(delivery.delivery_id)
        self.published += delivery.pull_events()
        delivery.version += 1
        self.stored[delivery.delivery_id] = copy.deepcopy(delivery)

    async def save_all(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            stored = self.stored.get(delivery.delivery_id)
            if stored is None or stored.version != delivery.version:
                raise Stale(delivery.delivery_id)
        for delivery in deliveries:
            await self.save(delivery)

    async def hold(self, delivery: Delivery, until: datetime) -> bool:
        stored = self.stored.get(delivery.delivery_id)
        if (
            stored is None
            or stored.version != delivery.version
            or stored.state is not State.SENDING
        ):
            return False
        stored.due_at = until
        return True

    async def note(self, delivery: Delivery, key: str, value: Any) -> bool:
        delivery.attempts[-1].progress[key] = value
        stored = self.stored.get(delivery.delivery_id)
        if stored is None or stored.version != delivery.version:
            return False
        stored.attempts[-1].progress[key] = copy.deepcopy(value)
        return True

    async def dispatch_due(self, now: datetime, lease: timedelta, limit: int) -> int:
        due = sorted(
            (
                d
                for d in self.stored.values()
                if d.state in {State.SCHEDULED, State.DISPATCHED, State.SENDING}
                and d.due_at is not None
                and d.due_at <= now
            ),
            key=lambda d: d.due_at or now,
        )[:limit]
        for stored in due:
            delivery = copy.deepcopy(stored)
            delivery.dispatch(now, lease)
            await self.save(delivery)
        return len(due)

    async def page(self, query: DeliveryQuery) -> list[Delivery]:
        rows = [
            d
            for d in self.stored.values()
            if d.office_id == query.office_id
            and (query.client_id is None or d.client_id == query.client_id)
            and (query.document_id is None or d.document_id == query.document_id)
            and (not query.states or d.state in query.states)
            and (query.visible_groups is None or d.group_id in query.visible_groups)
        ]
        rows.sort(key=lambda d: (d.created_at, d.delivery_id), reverse=True)
        if query.after is not None:
            rows = [d for d in rows if (d.created_at, d.delivery_id) < query.after]
        return [copy.deepcopy(d) for d in rows[: query.limit]]

    async def open_of_client(self, office_id: str, client_id: str) -> list[Delivery]:
        return [
            copy.deepcopy(d)
            for d in self.stored.values()
            if (d.office_id, d.client_id) == (office_id, client_id) and d.state in OPEN
        ]

    async def open_of_office(self, office_id: str) -> list[Delivery]:
        return [
            copy.deepcopy(d)
            for d in self.stored.values()
            if d.office_id == office_id and d.state in OPEN
        ]

    def requests(self) -> list[Any]:
        return [e for e in self.published if e.event_type == "DeliveryRequested"]


class FakeAgentKeys:
    def __init__(self) -> None:
        self.keys: dict[str, AgentKey] = {}  # token digest → key

    async def issue(self, key: AgentKey, token: str) -> None:
        self.keys[token_digest(token)] = key

    async def verify(self, token: str) -> AgentKey | None:
        return self.keys.get(token_digest(token))

    async def of_connection(self, office_id: str, connection: str) -> list[AgentKey]:
        return [
            k
            for k in self.keys.values()
            if (k.office_id, k.connection_key) == (office_id, connection.casefold())
        ]

    async def revoke(self, office_id: str, connection: str, key_id: str) -> bool:
        for digest, key in list(self.keys.items()):
            if (key.office_id, key.connection_key, key.key_id) == (
                office_id,
                connection.casefold(),
                key_id,
            ):
                del self.keys[digest]
                return True
        return False

    def revoke_all(self, office_id: str, connection: str) -> None:
        for key in list(self.keys.values()):
            if (key.office_id, key.connection_key) == (office_id, connection.casefold()):
                self.keys = {d: k for d, k in self.keys.items() if k is not key}

    async def seen(self, key: AgentKey, at: datetime) -> None:
        for digest, stored in self.keys.items():
            if stored.key_id == key.key_id:
                self.keys[digest] = AgentKey(
                    stored.key_id, stored.office_id, stored.connection, stored.created_at, at
                )


class FakePullQueue:
    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger

    async def available(
        self, office_id: str, connection: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[Delivery]:
        rows = sorted(
            (
                d
                for d in self.ledger.stored.values()
                if d.office_id == office_id
                and d.destination.casefold() == connection.casefold()
                and d.state is State.AVAILABLE
            ),
            key=lambda d: (d.due_at, d.delivery_id),
        )
        if after is not None:
            rows = [d for d in rows if (d.due_at, d.delivery_id) > after]
        return [copy.deepcopy(d) for d in rows[:limit]]

    async def of_ids(self, office_id: str, connection: str, ids: Sequence[str]) -> list[Delivery]:
        return [
            copy.deepcopy(d)
            for d in self.ledger.stored.values()
            if d.delivery_id in ids
            and d.office_id == office_id
            and d.destination.casefold() == connection.casefold()
        ]


class FakeConnections:
    def __init__(self, keys: FakeAgentKeys | None = None) -> None:
        self.connections: dict[tuple[str, str], Connection] = {}
        self.identities: dict[str, EmailIdentity] = {}
        self.announced: list[list[str]] = []
        self.keys = keys

    async def get(self, office_id: str, name: str) -> Connection | None:
        found = self.connections.get((office_id, name.casefold()))
        return copy.deepcopy(found) if found else None

    async def all(self, office_id: str) -> list[Connection]:
        return [
            copy.deepcopy(c) for (o, _), c in sorted(self.connections.items()) if o == office_id
        ]

    async def save(self, connection: Connection, expected_version: int) -> Connection:
        key = (connection.office_id, connection.name.casefold())
        stored = self.connections.get(key)
        if expected_version == 0 and stored is not None:
            raise ConnectionNameTaken(connection.name)
        if expected_version and (stored is None or stored.version != expected_version):
            raise Stale(connection.name)
        connection.version = expected_version + 1
        self.connections[key] = copy.deepcopy(connection)
        self.announced.append([c.name for c in await self.all(connection.office_id)])
        return connection

    async def delete(self, office_id: str, name: str, expected_version: int) -> None:
        stored = self.connections.get((office_id, name.casefold()))
        if stored is None or stored.version != expected_version:
            raise Stale(name)
        del self.connections[(office_id, name.casefold())]
        if self.keys is not None:
            self.keys.revoke_all(office_id, name)
        self.announced.append([c.name for c in await self.all(office_id)])

    async def sole(self, office_id: str, kind: Kind) -> Connection | None:
        found = [c for (o, _), c in self.connections.items() if o == office_id and c.kind is kind]
        return copy.deepcopy(found[0]) if found else None

    async def identity(self, office_id: str) -> EmailIdentity | None:
        return self.identities.get(office_id)

    async def save_identity(self, identity: EmailIdentity) -> EmailIdentity:
        self.identities[identity.office_id] = identity
        return identity


class FakeFiles:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def read(self, file: FileRef) -> bytes | None:
        return self.blobs.get(file.blob_id)


class FakeDestinations:
    def __init__(self, failures_to_pause: int = 5) -> None:
        self.failures: dict[str, int] = {}
        self.paused: dict[str, datetime] = {}
        self.failures_to_pause = failures_to_pause

    async def paused_until(self, destination: str, now: datetime) -> datetime | None:
        until = self.paused.get(destination)
        return until if until is not None and until > now else None

    async def failed(self, destination: str, now: datetime) -> None:
        self.failures[destination] = self.failures.get(destination, 0) + 1
        if self.failures[destination] >= self.failures_to_pause:
            self.paused[destination] = now + timedelta(minutes=5)

    async def throttled(self, destination: str, until: datetime) -> None:
        self.paused[destination] = max(until, self.paused.get(destination, until))

    async def succeeded(self, destination: str) -> None:
        self.failures.pop(destination, None)
        self.paused.pop(destination, None)


class FakeChannel:
    """Answers with the problems it is given, in turn, then delivers."""

    def __init__(self, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        self.delivered: list[Parcel] = []

    async def deliver(self, parcel: Parcel) -> Receipt:
        if self.problems:
            raise ChannelError(self.problems.pop(0))
        self.delivered.append(parcel)
        return Receipt(
            f"250 queued {parcel.delivery.delivery_id[:8]}", {"to": parcel.delivery.destination}
        )


def fake_deps(now: datetime) -> Deps:
    ledger, keys = FakeLedger(), FakeAgentKeys()
    return Deps(
        routes=FakeRoutes(),
        offices=FakeOffices(),
        sender_names=FakeSenderNames(),
        waiting=FakeWaiting(),
        ledger=ledger,
        connections=FakeConnections(keys),
        files=FakeFiles(),
        destinations=FakeDestinations(),
        agent_keys=keys,
        pull=FakePullQueue(ledger),
        clock=FixedClock(now),
        rng=random.Random(7),
    )
