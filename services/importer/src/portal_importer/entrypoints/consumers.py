"""Kafka subscribers: the clients service's answers to a confirmed import.

ImportCommitted marks the import done; ImportRejected puts it back to pending, rows flagged.
Both are idempotent (a stale or repeated answer changes nothing), so at-least-once delivery is
enough and any number of workers may share the group; the offset is committed only after the
import is written.
"""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from portal_contracts.broker import subscriber_options
from portal_contracts.imports import ImportCommitted, ImportRejected
from portal_importer.bootstrap import Service
from portal_importer.service.answers import record_commitment, record_rejection


def build_router(service: Service) -> KafkaRouter:
    router = KafkaRouter()
    topics = service.runtime.topics
    options = subscriber_options(service.settings.consumer_group)

    @router.subscriber(topics.of(ImportCommitted), **options)
    async def import_committed(event: ImportCommitted) -> None:
        await record_commitment(event, service.deps)

    @router.subscriber(topics.of(ImportRejected), **options)
    async def import_rejected(event: ImportRejected) -> None:
        await record_rejection(event, service.deps)

    return router
