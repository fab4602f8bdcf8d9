"""Handlers of planning: a ready document becomes deliveries; a change of the client's or the
office's settings reschedules what is not sent yet."""

from __future__ import annotations

import logging
from datetime import timedelta

from portal_contracts.clients import ClientSnapshot
from portal_contracts.documents import BlobRef, DocumentReady
from portal_contracts.office import OfficeProfileChanged, OfficeSettingsChanged
from portal_delivery.domain.delivery import Delivery, FileRef, State
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument, base_name, due_at, effective_timing, plan
from portal_delivery.service.deps import Deps

logger = logging.getLogger(__name__)
CLOCK_SKEW = timedelta(seconds=2)


def ready_document(event: DocumentReady) -> ReadyDocument:
    p = event.payload
    main = p.ubl or p.pdf
    stem = base_name(p.document_id, main.filename if main is not None else "")

    def ref(role: str, blob: BlobRef | None, extension: str) -> FileRef | None:
        if blob is None:
            return None
        return FileRef(
            role, blob.blob_id, blob.sha256, blob.size, f"{stem}.{extension}", blob.media_type
        )

    return ReadyDocument(
        document_id=p.document_id,
        office_id=event.office_id,
        client_id=p.client_id,
        kind=p.kind,
        # Milliseconds: what MongoDB keeps, so a delivery read back has the same due time.
        ready_at=event.occurred_at.replace(
            microsecond=event.occurred_at.microsecond // 1000 * 1000
        ),
        needs_data_entry=p.needs_data_entry,
        ubl=ref("ubl", p.ubl, "xml"),
        pdf=ref("pdf", p.pdf, "pdf"),
        pdf_beside=p.pdf_beside,
        correlation_id=str(event.correlation_id),
    )


async def plan_document(event: DocumentReady, deps: Deps) -> int:
    """Plan a document's deliveries; safe to receive twice. Returns how many were planned now."""
    return await plan_documents([event], deps)


async def plan_documents(events: list[DocumentReady], deps: Deps) -> int:
    """Plan a batch of documents in one write (a planner consuming a busy topic); the same as
    planning them one by one, replays included."""
    deliveries: list[Delivery] = []
    for event in events:
        document = ready_document(event)
        route = await deps.routes.get(document.office_id, document.client_id)
        if route is None:  # its client's settings have not arrived yet (another topic)
            await deps.waiting.park(document)
            logger.info("document %s waits for client %s", document.document_id, document.client_id)
            continue
        deliveries += await _deliveries(document, route, deps)
    return len(await deps.ledger.add(deliveries))


async def _plan(document: ReadyDocument, route: ClientRoute, deps: Deps) -> int:
    return len(await deps.ledger.add(await _deliveries(document, route, deps)))


async def _deliveries(document: ReadyDocument, route: ClientRoute, deps: Deps) -> list[Delivery]:
    now = deps.clock.now()
    deliveries = plan(document, route, await deps.offices.get(document.office_id), now)
    for delivery in deliveries:
        # Due now (or within the skew between our clock and the publisher's): straight to its
        # channel's topic, without waiting for the scheduler's next pass.
        due = delivery.due_at
        if delivery.state is State.SCHEDULED and due is not None and due <= now + CLOCK_SKEW:
            delivery.dispatch(now, deps.lease)
    return deliveries


async def remember_client_route(office_id: str, snapshot: ClientSnapshot, deps: Deps) -> bool:
    """Keep the newest settings of a client, plan the documents that waited for them, and
    reschedule its deliveries not sent yet when its timing changed."""
    route = ClientRoute.from_snapshot(office_id, snapshot)
    if not await deps.routes.keep_newest(route):
        return False
    for document in await deps.waiting.take(office_id, route.client_id):
        await _plan(document, route, deps)
        await deps.waiting.done(document.document_id)
    await _reschedule(await deps.ledger.open_of_client(office_id, route.client_id), route, deps)
    return True


async def remember_office_defaults(event: OfficeSettingsChanged, deps: Deps) -> bool:
    defaults = OfficeDefaults.from_event(event.office_id, event.payload)
    if not await deps.offices.keep_newest(defaults):
        return False
    for delivery in await deps.ledger.open_of_office(event.office_id):
        if delivery.timing.get("source") == "office":
            route = await deps.routes.get(event.office_id, delivery.client_id)
            if route is not None:
                await _reschedule([delivery], route, deps)
    return True


async def remember_office_profile(event: OfficeProfileChanged, deps: Deps) -> bool:
    """The name the office's e-mails come from (an older or repeated version changes nothing)."""
    p = event.payload
    return await deps.sender_names.keep_newest(event.office_id, p.version, p.sender_name or p.name)


async def _reschedule(deliveries: list[Delivery], route: ClientRoute, deps: Deps) -> None:
    timing, record = effective_timing(route, await deps.offices.get(route.office_id))
    for delivery in deliveries:
        if delivery.timing == record:
            continue
        ready_at = delivery.ready_at or delivery.created_at
        due = due_at(timing, ready_at, needs_data_entry=delivery.state is State.PLANNED)
        if delivery.reschedule(due, record):
            await deps.ledger.save(delivery)
