"""Handlers for what happens elsewhere: invitations move a client's status and invitation state
(sent, revoked, failed, accepted), and the register answers a pending VAT check. (A confirmed
import becoming clients: imports.py.)

Invitation events come on four topics, so in any order: each carries its ``occurred_at`` and the
aggregate ignores one older than the newest it applied (domain/invitation.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from portal_clients.domain.errors import StaleVersion
from portal_clients.domain.model import Client
from portal_clients.domain.vat import RegisterVerdict
from portal_clients.service.deps import Deps
from portal_contracts.clients import (
    ClientActivated,
    ClientInvitationFailed,
    ClientInvitationRevoked,
    ClientInvited,
)
from portal_contracts.delivery import ConnectionsChanged

logger = logging.getLogger(__name__)

EDIT_ATTEMPTS = 5


async def client_invited(event: ClientInvited, deps: Deps) -> None:
    now = deps.clock.now()
    await _change(
        event.payload.client_id,
        event.office_id,
        deps,
        type(event).__name__,
        lambda c: c.mark_invited(
            event.payload.invitation_id, event.occurred_at, now, caused_by=event
        ),
    )


async def invitation_revoked(event: ClientInvitationRevoked, deps: Deps) -> None:
    now = deps.clock.now()
    await _change(
        event.payload.client_id,
        event.office_id,
        deps,
        type(event).__name__,
        lambda c: c.mark_invitation_revoked(event.occurred_at, now, caused_by=event),
    )


async def invitation_failed(event: ClientInvitationFailed, deps: Deps) -> None:
    now, failure = deps.clock.now(), event.payload
    await _change(
        failure.client_id,
        event.office_id,
        deps,
        type(event).__name__,
        lambda c: c.mark_invitation_failed(
            failure.invitation_id,
            failure.reason,
            failure.detail,
            event.occurred_at,
            now,
            caused_by=event,
        ),
    )


async def client_activated(event: ClientActivated, deps: Deps) -> None:
    now = deps.clock.now()
    await _change(
        event.payload.client_id,
        event.office_id,
        deps,
        type(event).__name__,
        lambda c: c.mark_activated(event.payload.by, event.occurred_at, now, caused_by=event),
    )


async def recheck_vat(deps: Deps, limit: int = 20) -> int:
    """Ask the register again about up to ``limit`` due checks; returns how many were due."""
    for done in range(limit):
        client = await deps.clients.due_recheck(deps.clock.now(), deps.recheck_lease)
        if client is None or client.recheck is None:
            return done
        based_on, attempts = client.version, client.recheck.attempts + 1
        answer = await deps.register.check(client.data.company.vat_number)
        now = deps.clock.now()
        if answer.verdict is RegisterVerdict.UNAVAILABLE:
            delay = deps.recheck_policy.delay(attempts + 1, deps.jitter.random())
            client.ask_register_again(now + delay, attempts=attempts)
        else:
            client.record_vat_check(answer.as_check(), now, note=answer.note())
        try:
            await deps.clients.save(client, based_on)
        except StaleVersion:
            pass  # changed meanwhile: claimed again when the lease runs out, if still pending
    return limit


async def _change(
    client_id: str, office_id: str, deps: Deps, cause: str, change: Callable[[Client], bool]
) -> None:
    """Read, apply, write with the version read; a concurrent write makes it read again."""
    for _ in range(EDIT_ATTEMPTS):
        client = await deps.clients.get(client_id)
        if client is None or client.office_id != office_id:
            logger.warning("%s for unknown client %s", cause, client_id)
            return
        based_on = client.version
        if not change(client):
            return  # a repeat or a late arrival: nothing changes
        try:
            await deps.clients.save(client, based_on)
            return
        except StaleVersion:
            continue
    raise StaleVersion(-1)  # redelivered by the consumer (bounded attempts, then dead letter)


async def connections_changed(event: ConnectionsChanged, deps: Deps) -> None:
    """Delivery's connections of an office after a change: clients keeps their names so a client
    naming no connection of its kind is refused with the names the office has."""
    names = {c.name: c.kind for c in event.payload.connections}
    await deps.connections.keep_newest(event.office_id, event.payload.version, names)
