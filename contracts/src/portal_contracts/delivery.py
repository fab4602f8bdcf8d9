"""Delivery events: DocumentDelivered and DeliveryFailed (one per delivery: a document × a target),
DeliveryRequested (the internal "deliver this now" to a channel's workers), and
ConnectionsChanged (the names of an office's connections, never their secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import TransferMethod


class DocumentDeliveredPayload(Payload):
    document_id: str
    client_id: str
    channel: TransferMethod
    receipt: str  # what the channel answered: a Message-ID, a remote path, an API id
    delivered_at: datetime
    delivery_id: str | None = None  # the ledger's entry (one per document × target)


class DeliveryFailedPayload(Payload):
    document_id: str
    client_id: str
    channel: TransferMethod
    reason: str  # never contains a secret
    retryable: bool
    attempts: int
    delivery_id: str | None = None


class DocumentDelivered(Envelope[DocumentDeliveredPayload]):
    EVENT_TYPE: ClassVar[str] = "DocumentDelivered"
    event_type: Literal["DocumentDelivered"] = "DocumentDelivered"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.document_id


class DeliveryFailed(Envelope[DeliveryFailedPayload]):
    EVENT_TYPE: ClassVar[str] = "DeliveryFailed"
    event_type: Literal["DeliveryFailed"] = "DeliveryFailed"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.document_id


class DeliveryRequestedPayload(Payload):
    delivery_id: str
    attempt: int = Field(ge=1)
    channel: TransferMethod
    destination: str  # the connection or address: one worker owns a destination's concurrency


class DeliveryRequested(Envelope[DeliveryRequestedPayload]):
    """Deliver this now: published on the channel's own request topic
    (:meth:`portal_contracts.topics.Topics.delivery_request`), keyed by destination."""

    EVENT_TYPE: ClassVar[str] = "DeliveryRequested"
    event_type: Literal["DeliveryRequested"] = "DeliveryRequested"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        # The office's destination: OneDrive and Clearfacts requests all name "onedrive" /
        # "clearfacts", so the destination alone would send every office to one partition.
        return f"{self.office_id}:{self.payload.destination.casefold()}"


class ConnectionName(Payload):
    name: str
    kind: TransferMethod


class ConnectionsChangedPayload(Payload):
    version: int = Field(ge=1)  # newer replaces older; the list is complete
    connections: list[ConnectionName] = Field(default_factory=list)


class ConnectionsChanged(Envelope[ConnectionsChangedPayload]):
    """The office's connections after a change (names and kinds only, never a secret)."""

    EVENT_TYPE: ClassVar[str] = "ConnectionsChanged"
    event_type: Literal["ConnectionsChanged"] = "ConnectionsChanged"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.office_id
