"""Kafka edge: ClientCreated (with the import's invite flag) and ClientUpdated keep this
service's read model of clients and queue invitations; OfficeProfileChanged keeps the offices'
names. Subscribers only translate.

They consume in batches (up to ``BATCH`` records, one offset commit each): an import of
10,000 clients then costs a few dozen database round trips instead of tens of thousands.
A batch is committed only once all of it is handled (at least once, as before). Because the
broker's dead-letter middleware leaves batches to their handler, poison is handled here, record
by record: an unreadable record is set aside on ``<topic>.dlt`` at once; when the batch fails
for another reason than an outage, its records are handled one by one and one that fails
``MAX_ATTEMPTS`` times is set aside; an outage (database or broker unavailable) is retried,
the whole batch coming back, and never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import StreamMessage
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from portal_contracts.broker import is_transient, publish_dead_letter, subscriber_options
from portal_contracts.clients import ClientCreated, ClientState, ClientUpdated
from portal_contracts.office import OfficeProfileChanged
from portal_invitations.bootstrap import Service
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientProfile
from portal_invitations.domain.office import OfficeProfile
from portal_invitations.service import commands, handlers
from portal_invitations.service.deps import Deps

logger = logging.getLogger(__name__)

BATCH = 500
MAX_ATTEMPTS = 3
_OUTAGE_PAUSE_S = 1.0

DeadLetter = Callable[[ConsumerRecord[Any, Any], Exception, int], Awaitable[None]]


def record_command(
    event: ClientCreated | ClientUpdated | ClientState, invite: bool
) -> commands.RecordClient:
    client = event.payload.client
    profile = ClientProfile(
        client_id=client.client_id,
        office_id=event.office_id,
        group_id=client.group_id,
        email=client.user.email,
        first_name=client.user.first_name,
        last_name=client.user.last_name,
        language=client.user.language.value,
        subscription_mode=client.company.subscription_mode.value,
        status=client.status.value,
        mobile_phone=client.user.mobile_phone,
        version=client.version,
        archived=client.archived_at is not None,
    )
    cause = Cause(correlation_id=str(event.correlation_id), causation_id=str(event.event_id))
    return commands.RecordClient(profile, str(event.event_id), cause, invite)


async def _undecoded(message: StreamMessage[Any]) -> None:
    """No decoding by the framework: records are read one by one below, so one unreadable
    record cannot fail its whole batch."""
    return None


async def consume(
    records: Sequence[ConsumerRecord[Any, Any]],
    read: Callable[[bytes], commands.RecordClient],
    deps: Deps,
    dead_letter: DeadLetter,
) -> None:
    readable: list[tuple[ConsumerRecord[Any, Any], commands.RecordClient]] = []
    for record in records:
        try:
            readable.append((record, read(record.value or b"")))
        except (ValidationError, ValueError) as exc:
            await dead_letter(record, exc, 1)  # nobody can ever read it
    try:
        await handlers.record_clients(
            commands.RecordClients(tuple(cmd for _, cmd in readable)), deps
        )
    except Exception as exc:
        if is_transient(exc):
            logger.warning("infrastructure unavailable; the batch comes back: %r", exc)
            await asyncio.sleep(_OUTAGE_PAUSE_S)
            raise
        logger.warning("a batch of %d failed, now one by one: %r", len(readable), exc)
        for record, cmd in readable:
            await _one(record, cmd, deps, dead_letter)


async def _one(
    record: ConsumerRecord[Any, Any],
    cmd: commands.RecordClient,
    deps: Deps,
    dead_letter: DeadLetter,
) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            await handlers.record_client(cmd, deps)
            return
        except Exception as exc:
            if is_transient(exc):
                await asyncio.sleep(_OUTAGE_PAUSE_S)
                raise
            if attempt == MAX_ATTEMPTS:
                await dead_letter(record, exc, attempt)
                return
            logger.warning("handling %s failed (attempt %d): %r", record.offset, attempt, exc)
            await asyncio.sleep(0.2 * attempt)


def _created(value: bytes) -> commands.RecordClient:
    event = ClientCreated.model_validate_json(value)
    return record_command(event, event.payload.invite)


def _updated(value: bytes) -> commands.RecordClient:
    return record_command(ClientUpdated.model_validate_json(value), invite=False)


def state_command(value: bytes) -> commands.RecordClient:
    """A ClientState (a rebuild): the snapshot only, never an invitation."""
    return record_command(ClientState.model_validate_json(value), invite=False)


def build_router(service: Service) -> KafkaRouter:
    router = KafkaRouter()
    options = subscriber_options(service.settings.consumer_group, batch=True, max_records=BATCH)
    topics, deps = service.runtime.topics, service.deps

    async def dead_letter(record: ConsumerRecord[Any, Any], exc: Exception, attempts: int) -> None:
        await publish_dead_letter(service.runtime.broker, record, exc, attempts)

    @router.subscriber(topics.of(ClientCreated), decoder=_undecoded, **options)
    async def on_client_created(message: KafkaMessage) -> None:
        await consume(message.raw_message, _created, deps, dead_letter)

    @router.subscriber(topics.of(ClientUpdated), decoder=_undecoded, **options)
    async def on_client_updated(message: KafkaMessage) -> None:
        await consume(message.raw_message, _updated, deps, dead_letter)

    # A few per office and year: one by one (the broker's dead-letter middleware applies).
    @router.subscriber(
        topics.of(OfficeProfileChanged), **subscriber_options(service.settings.consumer_group)
    )
    async def on_office_profile(event: OfficeProfileChanged) -> None:
        p = event.payload
        profile = OfficeProfile(p.name, p.sender_name, tuple(lang.value for lang in p.languages))
        cmd = commands.RememberOfficeProfile(event.office_id, p.version, profile)
        await handlers.remember_office_profile(cmd, deps)

    return router
