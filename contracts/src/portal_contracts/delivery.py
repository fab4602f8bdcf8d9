"""Delivery events: DocumentDelivered and DeliveryFailed, one per (document, channel)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from portal_contracts.envelope import Envelope, Payload
from portal_contracts.values import TransferMethod


class DocumentDeliveredPayload(Payload):
    document_id: str
    client_id: str
    channel: TransferMethod
    receipt: str  # what the channel answered: a Message-ID, a remote path, an API id
    delivered_at: datetime


class DeliveryFailedPayload(Payload):
    document_id: str
    client_id: str
    channel: TransferMethod
    reason: str  # never contains a secret
    retryable: bool
    attempts: int


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
