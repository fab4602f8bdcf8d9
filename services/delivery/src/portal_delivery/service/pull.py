"""Handlers of the agent API: an agent (one key of one agent connection) leases what is
available to it, downloads its files, and acknowledges or refuses each item.

Every change is the ledger's: a lease is a compare-and-set on the delivery's version (of two
polls racing, one leases each item), an acknowledgement marks it sent with DocumentDelivered in
one transaction. A key sees only its own office's deliveries to its own connection; anything
else answers as missing.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal_delivery.domain import pull
from portal_delivery.domain.agents import AgentKey
from portal_delivery.domain.connections import Connection, Kind
from portal_delivery.domain.delivery import Delivery, FileRef, State
from portal_delivery.ports import Stale
from portal_delivery.service.deps import Deps

logger = logging.getLogger(__name__)
POLL_S = 0.5  # how often a waiting feed looks again


class NotYours(Exception):
    """Not this agent's (another office, another connection, not a pulled delivery)."""


class FileGone(Exception):
    """The document was deleted: its files are gone (the delivery is cancelled)."""


@dataclass(frozen=True)
class Leased:
    delivery: Delivery
    lease_token: str
    folder: str  # where under the agent's root: the connection's base folder + the client's
    since: datetime  # available since (the feed's order, and its cursor)


async def _connection(key: AgentKey, deps: Deps) -> Connection:
    connection = await deps.connections.get(key.office_id, key.connection)
    if connection is None or connection.kind is not Kind.AGENT:
        raise NotYours(key.connection)
    return connection


async def feed(
    key: AgentKey,
    deps: Deps,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
    wait_s: float = 0.0,
) -> list[Leased]:
    """Lease up to ``limit`` available items (oldest first); when there is none, wait up to
    ``wait_s`` for one (a long poll)."""
    connection = await _connection(key, deps)
    await deps.agent_keys.seen(key, deps.clock.now())
    base = str(connection.settings.get("base_folder", ""))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        leased = []
        for delivery in await deps.pull.available(key.office_id, connection.name, after, limit):
            now, since = deps.clock.now(), delivery.due_at or deps.clock.now()
            token = pull.lease(delivery, now, deps.agent_lease, deps.retry, deps.rng)
            if token is None and delivery.state is not State.FAILED:
                continue  # not available after all: nothing to write
            try:
                await deps.ledger.save(delivery)
            except Stale:
                continue  # another poll leased it first
            if token is not None:
                folder = posixpath.join(base, delivery.folder)
                leased.append(Leased(delivery, token, folder, since))
        if leased or loop.time() >= deadline:
            return leased
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))


async def _mine(key: AgentKey, delivery_id: str, deps: Deps) -> Delivery:
    delivery = await deps.ledger.get(delivery_id)
    if (
        delivery is None
        or delivery.office_id != key.office_id
        or delivery.destination.casefold() != key.connection_key
        or delivery.channel.value != "agent"
    ):
        raise NotYours(delivery_id)
    return delivery


async def download(key: AgentKey, delivery_id: str, name: str, deps: Deps) -> tuple[FileRef, bytes]:
    delivery = await _mine(key, delivery_id, deps)
    if delivery.state not in {State.AVAILABLE, State.SENDING, State.SENT}:
        raise NotYours(delivery_id)
    file = next((f for f in delivery.files if f.name == name), None)
    if file is None:
        raise NotYours(name)
    data = await deps.files.read(file)
    if data is None:
        raise FileGone(name)
    return file, data


async def acknowledge(
    key: AgentKey, delivery_id: str, lease_token: str, files: list[dict[str, Any]], deps: Deps
) -> Delivery:
    """Mark the item sent (idempotent for the same lease: a repeated ack changes nothing)."""
    for _ in range(3):
        delivery = await _mine(key, delivery_id, deps)
        if not pull.acknowledge(delivery, lease_token, key.key_id, files, deps.clock.now()):
            return delivery
        try:
            await deps.ledger.save(delivery)
            return delivery
        except Stale:
            continue  # the scheduler made it available again meanwhile: decide once more
    raise pull.LeaseLost(delivery_id)


@dataclass(frozen=True)
class Ack:
    delivery_id: str
    lease_token: str
    files: list[dict[str, Any]]


async def acknowledge_all(key: AgentKey, acks: list[Ack], deps: Deps) -> dict[str, str]:
    """A page of acknowledgements in one read and one transaction; what became of each item
    (its state, or ``lease_lost`` / ``hash_mismatch`` / ``not_found``). When another writer got
    in between (the scheduler taking an expired lease back), they are decided one by one."""
    found = {
        d.delivery_id: d
        for d in await deps.pull.of_ids(
            key.office_id, key.connection, [a.delivery_id for a in acks]
        )
    }
    outcome: dict[str, str] = {}
    changed = []
    now = deps.clock.now()
    for ack in acks:
        delivery = found.get(ack.delivery_id)
        if delivery is None:
            outcome[ack.delivery_id] = "not_found"
            continue
        try:
            if pull.acknowledge(delivery, ack.lease_token, key.key_id, ack.files, now):
                changed.append(delivery)
            outcome[ack.delivery_id] = delivery.state.value
        except pull.LeaseLost:
            outcome[ack.delivery_id] = "lease_lost"
        except pull.NotWhatWasSent:
            outcome[ack.delivery_id] = "hash_mismatch"
    try:
        if changed:
            await deps.ledger.save_all(changed)
    except Stale:
        for delivery in changed:
            ack = next(a for a in acks if a.delivery_id == delivery.delivery_id)
            try:
                done = await acknowledge(key, ack.delivery_id, ack.lease_token, ack.files, deps)
                outcome[ack.delivery_id] = done.state.value
            except pull.LeaseLost:
                outcome[ack.delivery_id] = "lease_lost"
    return outcome


async def refuse(
    key: AgentKey, delivery_id: str, lease_token: str, reason: str, deps: Deps
) -> Delivery:
    for _ in range(3):
        delivery = await _mine(key, delivery_id, deps)
        pull.refuse(delivery, lease_token, reason, deps.clock.now(), deps.retry, deps.rng)
        try:
            await deps.ledger.save(delivery)
            return delivery
        except Stale:
            continue
    raise pull.LeaseLost(delivery_id)
