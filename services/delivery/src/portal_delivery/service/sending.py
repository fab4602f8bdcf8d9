"""Handlers of sending: the scheduler puts due deliveries on their channel's topic; a channel's
worker takes one request, delivers, and records the outcome.

A request is taken only if it is the delivery's current attempt (a compare-and-set on the
version), so a duplicate or stale request is dropped. A failure never blocks the worker: the
delivery is rescheduled in the ledger (back-off, or the destination's pause) and the worker
moves on to the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable
from typing import Any

from portal_contracts.delivery import DeliveryRequested
from portal_contracts.values import TransferMethod
from portal_delivery.domain.connections import SOLE_KIND
from portal_delivery.domain.delivery import ChannelError, Delivery, Problem, Receipt, State
from portal_delivery.ports import Channel, Parcel, Stale
from portal_delivery.service.deps import Deps

logger = logging.getLogger(__name__)


async def dispatch_due(deps: Deps, limit: int = 100) -> int:
    """The scheduler's pass: how many due deliveries it put on their topics."""
    return await deps.ledger.dispatch_due(deps.clock.now(), deps.lease, limit)


def destination_key(delivery: Delivery) -> str:
    return f"{delivery.office_id}:{delivery.channel.value}:{delivery.destination.casefold()}"


async def deliver_requested(event: DeliveryRequested, channel: Channel, deps: Deps) -> str:
    """Deliver one request; returns what became of it (for logs and tests)."""
    delivery = await deps.ledger.get(event.payload.delivery_id)
    now = deps.clock.now()
    if delivery is None or not delivery.start(event.payload.attempt, now, deps.lease):
        return "stale"
    try:
        await deps.ledger.save(delivery)  # the attempt is ours now; a duplicate request is stale
    except Stale:
        return "stale"
    key = destination_key(delivery)
    paused = await deps.destinations.paused_until(key, now)
    if paused is not None:
        delivery.postpone(paused, Problem("destination.paused", delivery.destination))
        await deps.ledger.save(delivery)
        return "postponed"
    parcel = await _parcel(delivery, deps)
    if parcel is None:
        delivery.cancel(Problem("document.deleted", retryable=False))
        await deps.ledger.save(delivery)
        return "cancelled"
    try:
        receipt = await _holding(delivery, channel.deliver(parcel), deps)
    except ChannelError as exc:
        await _failed(delivery, exc.problem, key, deps)
        return "failed" if delivery.state is State.FAILED else "retry"
    sent = [
        {"name": f.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for f, data in parcel.files
    ]
    delivery.succeed(receipt, sent, deps.clock.now())
    await deps.ledger.save(delivery)
    await deps.destinations.succeeded(key)
    return "sent"


async def _holding(delivery: Delivery, sending: Awaitable[Receipt], deps: Deps) -> Receipt:
    """Await ``sending`` while renewing the attempt's lease, so a slow upload is not taken for a
    dead worker and started a second time beside it."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(deps.lease.total_seconds() / 3)
            await deps.ledger.hold(delivery, deps.clock.now() + deps.lease)

    renewing = asyncio.create_task(renew())
    try:
        return await sending
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


async def _parcel(delivery: Delivery, deps: Deps) -> Parcel | None:
    files = []
    for file in delivery.files:
        data = await deps.files.read(file)
        if data is None:
            return None
        files.append((file, data))
    sole = SOLE_KIND.get(delivery.channel)
    connection = (
        await deps.connections.sole(delivery.office_id, sole)
        if sole is not None
        else await deps.connections.get(delivery.office_id, delivery.destination)
    )
    sender = await deps.connections.identity(delivery.office_id)
    sends_as = None
    if delivery.channel is TransferMethod.EMAIL and not (sender and sender.display_name):
        sends_as = await deps.sender_names.of(delivery.office_id)

    async def note(key: str, value: Any) -> None:
        await deps.ledger.note(delivery, key, value)

    return Parcel(delivery, files, connection, sender, note, sends_as)


async def _failed(delivery: Delivery, problem: Problem, key: str, deps: Deps) -> None:
    logger.warning(
        "delivery %s attempt %d failed: %s %s",
        delivery.delivery_id,
        delivery.attempt,
        problem.code,
        problem.detail,
    )
    delivery.fail(problem, deps.clock.now(), deps.retry, deps.rng)
    await deps.ledger.save(delivery)
    if problem.retryable and problem.retry_after is not None:
        # Throttled (Graph's 429/503): every delivery to it waits as told, and that is all;
        # counted as failures, a few seconds' throttling grew the breaker's pause past them.
        await deps.destinations.throttled(key, deps.clock.now() + problem.retry_after)
    elif problem.retryable:  # a permanent refusal says nothing of the destination's health
        await deps.destinations.failed(key, deps.clock.now())
