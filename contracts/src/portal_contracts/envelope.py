"""The envelope every event travels in, and how a new event is stamped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

PayloadT = TypeVar("PayloadT", bound=BaseModel)


class Payload(BaseModel):
    """Base of every payload: unknown fields are ignored so producers may add optional ones."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Envelope(BaseModel, Generic[PayloadT]):
    """Metadata common to all events; ``payload`` is the event-specific body.

    ``correlation_id`` ties together everything caused by one user action (an import, a request);
    ``causation_id`` is the ``event_id`` of the event that directly caused this one, if any.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    schema_version: int
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    office_id: str = Field(min_length=1)
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    payload: PayloadT

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def new(
        cls,
        *,
        office_id: str,
        payload: PayloadT,
        correlation_id: uuid.UUID | None = None,
        caused_by: Envelope[Any] | None = None,
    ) -> Self:
        """Stamp a new event; ``caused_by`` carries the correlation on and records the causation."""
        if caused_by is not None:
            correlation_id = correlation_id or caused_by.correlation_id
        return cls(
            event_type=cls.EVENT_TYPE,
            schema_version=cls.SCHEMA_VERSION,
            office_id=office_id,
            correlation_id=correlation_id or uuid.uuid4(),
            causation_id=caused_by.event_id if caused_by is not None else None,
            payload=payload,
        )

    def key(self) -> bytes:
        """Kafka key: the aggregate id, so one aggregate's events stay in order."""
        return self.aggregate_id().encode()

    def aggregate_id(self) -> str:
        raise NotImplementedError
