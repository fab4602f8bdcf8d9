"""How a client is stored: one document per client in ``clients``.

_id             client id
office_id       tenancy; every read checks it
version         optimistic-concurrency version (the ETag); every write is conditional on it
status, vat_check, created_at, updated_at, origin
data            the ClientData (JSON form: dates as ISO strings)
reference_key   the internal reference as compared (folded); absent when there is none
sort            one key per list order, "<office>␟<value>␟<client id>" (domain/listing.py)
search          the office's search words for this client (domain/listing.py)
due_at          when the register is to be asked again (a pending VAT check), with
recheck_attempts  how many times it was asked; absent when nothing is pending
vat_note        {code, detail}: why the register refused the number (a background check of an
                imported or pending client); absent otherwise
invitation      the last invitation's state as the invitations service told it (state,
                invitation_id, at, reason, detail); absent: not invited, or revoked
invitation_as_of  occurred_at of the newest invitation event applied (older ones are ignored)
state_republished_at  when republish_states last announced this client's state (the mark that
                orders it against a concurrent edit; gone at the next write)
pending_import  "<import>:<version>" while the client belongs to an import committed in
                several transactions that is not committed yet (mongo_imports.py)
claims          {email, vat}: the values this client holds on the platform (the unique
                indexes are on them); absent once an archived client's hold has run out
archived        {at, by, claims_until, claims_released} while archived; absent otherwise
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal_clients.domain.invitation import ClientInvitation, InvitationState
from portal_clients.domain.listing import ClientSummary, SortKey
from portal_clients.domain.model import Archived, Client, Recheck, reference_key
from portal_clients.domain.vat import VatCheckNote
from portal_clients.ports import Holder
from portal_contracts.clients import ClientData, ImportOrigin, VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode, TransferMethod

Document = dict[str, Any]


def to_document(client: Client, *, pending_import: str | None = None) -> Document:
    summary = client.summary()
    doc: Document = {
        "_id": client.client_id,
        "office_id": client.office_id,
        "version": client.version,
        "status": client.status.value,
        "vat_check": client.vat_check.value,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "origin": client.origin.model_dump(mode="json") if client.origin else None,
        "data": client.data.model_dump(mode="json"),
        "sort": {sort.value: summary.sort_value(sort) for sort in SortKey},
        "search": summary.search_words(),
    }
    reference = reference_key(client.data.company.internal_reference)
    if reference is not None:
        doc["reference_key"] = reference
    if client.recheck is not None:
        doc["due_at"] = client.recheck.due_at
        doc["recheck_attempts"] = client.recheck.attempts
    if client.invitation is not None:
        doc["invitation"] = _invitation_document(client.invitation)
    if client.vat_note is not None:
        doc["vat_note"] = {"code": client.vat_note.code, "detail": client.vat_note.detail}
    if client.invitation_as_of is not None:
        doc["invitation_as_of"] = client.invitation_as_of
    if pending_import is not None:
        doc["pending_import"] = pending_import
    if client.holds_claims:
        doc["claims"] = {"email": client.data.user.email, "vat": client.data.company.vat_number}
    if client.archived is not None:
        a = client.archived
        doc["archived"] = {
            "at": a.at,
            "by": a.by,
            "claims_until": a.claims_until,
            "claims_released": a.claims_released,
        }
    return doc


def _archived(doc: Document | None) -> Archived | None:
    if not doc:
        return None
    return Archived(
        at=_aware(doc["at"]),
        by=doc["by"],
        claims_until=_aware(doc["claims_until"]),
        claims_released=bool(doc.get("claims_released")),
    )


def _invitation_document(invitation: ClientInvitation) -> Document:
    return {
        "invitation_id": invitation.invitation_id,
        "state": invitation.state.value,
        "at": invitation.at,
        "reason": invitation.reason,
        "detail": invitation.detail,
    }


def _invitation(doc: Document | None) -> ClientInvitation | None:
    if not doc:
        return None
    return ClientInvitation(
        invitation_id=doc["invitation_id"],
        state=InvitationState(doc["state"]),
        at=_aware(doc["at"]),
        reason=doc.get("reason"),
        detail=doc.get("detail"),
    )


def from_document(doc: Document) -> Client:
    origin = doc.get("origin")
    due_at = doc.get("due_at")
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
        recheck=Recheck(doc.get("recheck_attempts", 0), _aware(due_at)) if due_at else None,
        invitation=_invitation(doc.get("invitation")),
        invitation_as_of=_aware(as_of) if (as_of := doc.get("invitation_as_of")) else None,
        archived=_archived(doc.get("archived")),
        vat_note=VatCheckNote(n["code"], n.get("detail", ""))
        if (n := doc.get("vat_note"))
        else None,
    )


SUMMARY_PROJECTION = {
    "office_id": 1,
    "data.company": 1,
    "data.user": 1,
    "data.group_id": 1,
    "data.integration.target.kind": 1,
    "status": 1,
    "vat_check": 1,
    "version": 1,
    "created_at": 1,
    "invitation": 1,
    "archived.at": 1,
    "vat_note": 1,
}


def summary_from_document(doc: Document) -> ClientSummary:
    data = doc["data"]
    company, user = data["company"], data["user"]
    return ClientSummary(
        client_id=doc["_id"],
        office_id=doc["office_id"],
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
        invitation=_invitation(doc.get("invitation")),
        archived_at=_aware(a["at"]) if (a := doc.get("archived")) else None,
        vat_check_reason=(doc.get("vat_note") or {}).get("code"),
        vat_check_detail=(doc.get("vat_note") or {}).get("detail"),
        transfer_method=TransferMethod(
            data.get("integration", {}).get("target", {}).get("kind", TransferMethod.MANUAL)
        ),
    )


HOLDER_PROJECTION = {
    "office_id": 1,
    "data.group_id": 1,
    "data.user.email": 1,
    "data.company.vat_number": 1,
    "data.company.internal_reference": 1,
}


def holder_from_document(doc: Document) -> Holder:
    data = doc["data"]
    return Holder(
        client_id=doc["_id"],
        office_id=doc["office_id"],
        group_id=data["group_id"],
        email=data["user"]["email"],
        vat_number=data["company"]["vat_number"],
        reference=data["company"].get("internal_reference"),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
