"""Announcing every client's current state again, on the compacted ClientState topic.

Each change announces its state already (with its event, in its transaction). This is for what
that cannot cover: clients created before the topic existed, or the topic lost. Idempotent:
states carry their version, consumers keep only a newer one, and compaction keeps the last.
"""

from __future__ import annotations

import logging

from portal_clients.service.deps import Deps

logger = logging.getLogger(__name__)

PAGE = 500  # clients per transaction: one outbox record (servicekit EVENTS_PER_RECORD)


async def republish_states(
    deps: Deps, *, office_id: str | None = None, after: str | None = None, page: int = PAGE
) -> int:
    """Announce the state of every client (of one office, or all) after client id ``after``, in
    client id order, page by page; returns how many were announced."""
    published = 0
    while True:
        done = await deps.clients.republish_states(after, page, office_id=office_id)
        if done.last_id is None:
            return published
        published, after = published + done.published, done.last_id
        logger.info("client states republished: %d, up to client %s", published, after)
