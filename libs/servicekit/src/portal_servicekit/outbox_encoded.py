"""Events that reach the outbox already encoded, for a service that writes an event's JSON itself.

The importer builds each ImportValidated chunk by joining rows it serialised one by one, so that a
chunk's size (at most 512 KB) is checked on the very bytes sent and a 100,000-row import is never
held as pydantic objects. :func:`add_encoded` stores such events exactly as ``Outbox.add`` stores
envelopes (same record shape and bounds), so the one :class:`~portal_servicekit.outbox.OutboxRelay`
publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from bson import Binary

from portal_servicekit.mongo import Document, Session
from portal_servicekit.outbox import Outbox


@dataclass(frozen=True)
class EncodedEvent:
    event_type: str
    event_id: UUID
    key: str  # the aggregate id: the Kafka key
    correlation_id: UUID
    body: bytes  # the envelope as JSON, as it goes to Kafka

    def entry(self) -> Document:
        """The outbox entry, as :func:`portal_servicekit.outbox.encoded` makes it."""
        return {
            "type": self.event_type,
            "route": self.event_type,
            "id": str(self.event_id),
            "key": self.key,
            "correlation_id": str(self.correlation_id),
            "body": Binary(self.body),
        }


async def add_encoded(
    outbox: Outbox, events: Sequence[EncodedEvent], *, session: Session | None
) -> None:
    """Store ``events`` in the caller's transaction (``session``), in order."""
    await outbox.add_entries([event.entry() for event in events], session=session)
