"""Import events: ImportValidated (in chunks), ImportCommitted, ImportRejected.

A confirmed import travels as several ImportValidated chunks (no Kafka message over ~512 KB); the
clients service creates the clients only once it holds every chunk, all or none. Its answer,
ImportCommitted or ImportRejected, comes in parts for the same reason (a 100,000-row import's
client ids weigh ~4.5 MB): the import's outcome is known once every part is in.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from portal_contracts.clients import ClientData
from portal_contracts.envelope import Envelope, Payload

MAX_CHUNK_BYTES = 512 * 1024
ANSWER_ROWS_PER_PART = 5_000  # ImportCommitted / ImportRejected rows per message (~250 KB)


class ImportRow(Payload):
    row_number: int = Field(ge=1)  # the Excel row number, as the accountant sees it
    invite: bool
    client: ClientData
    # The accountant ticked "don't check the VAT number" for this row: the register is not
    # asked (the checksum still is). Absent in events from before the column: check.
    skip_vat_check: bool = False


class ImportValidatedPayload(Payload):
    import_id: str
    version: int = Field(ge=1)  # the uploaded file's version within the import
    chunk_index: int = Field(ge=0)
    chunk_count: int = Field(ge=1)
    row_count: int = Field(ge=1)  # rows in the whole import, across chunks
    rows: list[ImportRow]


class ImportCommittedPayload(Payload):
    import_id: str
    version: int
    client_ids: dict[int, str]  # row number -> client id, for this part's rows
    chunk_index: int = Field(default=0, ge=0)  # this part
    chunk_count: int = Field(default=1, ge=1)  # parts of the answer


class RejectedRow(Payload):
    row_number: int
    field: str  # e.g. "user.email"
    code: str  # stable error code, e.g. "email.taken"


class ImportRejectedPayload(Payload):
    import_id: str
    version: int
    rows: list[RejectedRow]  # this part's rows
    chunk_index: int = Field(default=0, ge=0)
    chunk_count: int = Field(default=1, ge=1)


class ImportValidated(Envelope[ImportValidatedPayload]):
    EVENT_TYPE: ClassVar[str] = "ImportValidated"
    event_type: Literal["ImportValidated"] = "ImportValidated"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.import_id


class ImportCommitted(Envelope[ImportCommittedPayload]):
    EVENT_TYPE: ClassVar[str] = "ImportCommitted"
    event_type: Literal["ImportCommitted"] = "ImportCommitted"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.import_id


class ImportRejected(Envelope[ImportRejectedPayload]):
    EVENT_TYPE: ClassVar[str] = "ImportRejected"
    event_type: Literal["ImportRejected"] = "ImportRejected"
    schema_version: Literal[1] = 1

    def aggregate_id(self) -> str:
        return self.payload.import_id
