"""Kafka subscribers: the clients service's answers to a confirmed import."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from portal_contracts.broker import subscriber_options
from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_contracts.topics import Topics
from portal_importer.ports import ImportRepository
from portal_importer.service.answers import on_import_committed, on_import_rejected

GROUP_ID = "importer"


def register_consumers(
    broker: KafkaBroker, topics: Topics, repository: ImportRepository, group_id: str = GROUP_ID
) -> None:
    """ImportCommitted marks the import done; ImportRejected puts it back to pending, rows
    flagged. Both are idempotent (a stale or repeated answer changes nothing), so at-least-once
    delivery is enough; the offset is committed only after the import document is written."""

    @broker.subscriber(topics.of(ImportCommitted), **subscriber_options(group_id))
    async def import_committed(event: ImportCommitted) -> None:
        await on_import_committed(event, repository)

    @broker.subscriber(topics.of(ImportRejected), **subscriber_options(group_id))
    async def import_rejected(event: ImportRejected) -> None:
        await on_import_rejected(event, repository)
