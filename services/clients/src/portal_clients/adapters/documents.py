"""How a client is stored: one document per client, with its pending events (the outbox).

Layout (collection ``clients``)::

    _id             client id
    office_id       tenancy; every read checks it
    version         optimistic-concurrency version (the ETag)
    status, vat_check, created_at, updated_at, origin
    data            the ClientData (JSON form: dates as ISO strings)
    reference_key   the internal reference, case-folded, or "~<client id>" when there is none:
                    FerretDB has no partial indexes and counts missing fields as equal, so a
                    unique (office_id, reference_key) index needs a value in every document
    visible         False while the client belongs to an import that is not committed
    import_ref      "<import id>:<version>" for imported clients, "" otherwise
    sort, search    precomputed list keys (case-folded) for the list filters and sort orders
    outbox          events not yet known to be published, each tagged with its marker id
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal_clients.domain.listing import ClientSummary, SortKey
from portal_clients.domain.model import Client
from portal_contracts.clients import ClientData, ImportOrigin, VatCheck
from portal_contracts.envelope import Envelope
from portal_contracts.values import ClientStatus, SubscriptionMode

Document = dict[str, Any]


def reference_key(client: Client) -> str:
    reference = client.data.company.internal_reference
    return reference.strip().casefold() if reference else f"~{client.client_id}"


def search_text(data: ClientData) -> str:
    company = data.company
    parts = [company.name, company.vat_number, company.internal_reference or "", data.user.email]
    return " ".join(parts).casefold()


def outbox_entry(event: Envelope[Any], marker: str) -> Document:
    return {
        "marker": marker,
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "key": event.aggregate_id(),
        "correlation_id": str(event.correlation_id),
        "body": event.model_dump(mode="json"),
    }


def to_document(client: Client, *, visible: bool = True, import_ref: str = "") -> Document:
    data = client.data.model_dump(mode="json")
    return {
        "_id": client.client_id,
        "office_id": client.office_id,
        "version": client.version,
        "status": client.status.value,
        "vat_check": client.vat_check.value,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "origin": client.origin.model_dump(mode="json") if client.origin else None,
        "data": data,
        "reference_key": reference_key(client),
        "visible": visible,
        "import_ref": import_ref,
        "sort": {
            SortKey.COMPANY_NAME.value: client.data.company.name.casefold(),
            SortKey.CREATED_AT.value: client.created_at.isoformat(),
            SortKey.INTERNAL_REFERENCE.value: (
                client.data.company.internal_reference or ""
            ).casefold(),
            SortKey.EMAIL.value: client.data.user.email,
        },
        "search": search_text(client.data),
    }


def from_document(doc: Document) -> Client:
    origin = doc.get("origin")
    return Client(
        client_id=doc["_id"],
        office_id=doc["office_id"],
        version=doc["version"],
        status=ClientStatus(doc["status"]),
        vat_check=VatCheck(doc["vat_check"]),
        data=ClientData.model_validate(doc["data"]),
        created_at=_aware(doc["created_at"]),
        updated_at=_aware(doc["updated_at"]),
        origin=ImportOrigin.model_validate(origin) if origin else None,
    )


def summary_from_document(doc: Document) -> ClientSummary:
    data = doc["data"]
    company, user = data["company"], data["user"]
    return ClientSummary(
        client_id=doc["_id"],
        company_name=company["name"],
        vat_number=company["vat_number"],
        internal_reference=company.get("internal_reference"),
        email=user["email"],
        first_name=user["first_name"],
        last_name=user["last_name"],
        status=ClientStatus(doc["status"]),
        group_id=data["group_id"],
        subscription_mode=SubscriptionMode(company["subscription_mode"]),
        vat_check=VatCheck(doc["vat_check"]),
        version=doc["version"],
        created_at=_aware(doc["created_at"]),
    )


def summary_of(client: Client) -> ClientSummary:
    company, user = client.data.company, client.data.user
    return ClientSummary(
        client_id=client.client_id,
        company_name=company.name,
        vat_number=company.vat_number,
        internal_reference=company.internal_reference,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        status=client.status,
        group_id=client.data.group_id,
        subscription_mode=company.subscription_mode,
        vat_check=client.vat_check,
        version=client.version,
        created_at=client.created_at,
    )


SUMMARY_PROJECTION = {
    "data.company": 1,
    "data.user": 1,
    "data.group_id": 1,
    "status": 1,
    "vat_check": 1,
    "version": 1,
    "created_at": 1,
}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
