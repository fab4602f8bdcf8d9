"""The Client aggregate: a client's data, status and register check, and the events it records.

The aggregate never awaits: handlers load it, call one of its methods, and the repository saves its
new state together with the events it recorded (the outbox, in the same transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from portal_clients.domain import invitation as news_of
from portal_clients.domain.invitation import ClientInvitation, InvitationNews, InvitationState
from portal_clients.domain.listing import ClientSummary, fold
from portal_clients.domain.vat import VatCheckNote
from portal_contracts.clients import (
    ActivatedBy,
    ClientCreated,
    ClientCreatedPayload,
    ClientData,
    ClientSnapshot,
    ClientState,
    ClientUpdated,
    ClientUpdatedPayload,
    ImportOrigin,
    VatCheck,
)
from portal_contracts.envelope import Envelope
from portal_contracts.values import ClientStatus

ClientEvent = ClientCreated | ClientUpdated
ClientAnnouncement = ClientCreated | ClientUpdated | ClientState

# Sections whose changes are reported field by field in ClientUpdated.changed ("user.email");
# the others are reported as a whole ("bank_accounts").
_DETAILED_SECTIONS = ("company", "user", "integration", "task_list")

_IMPORT_NAMESPACE = uuid.UUID("5b0e3c1e-6f1a-4d8e-9a57-0c1e2d3f4a5b")


def new_client_id() -> str:
    return uuid.uuid4().hex


def imported_client_id(import_id: str, version: int, row_number: int) -> str:
    """The same import row always yields the same client id: re-consuming creates nothing new."""
    return uuid.uuid5(_IMPORT_NAMESPACE, f"{import_id}:{version}:{row_number}").hex


def reference_key(reference: str | None) -> str | None:
    """Internal references are unique in an office regardless of case, accents and spacing."""
    key = fold(reference or "")
    return key or None


def changed_paths(before: ClientData, after: ClientData) -> list[str]:
    old = before.model_dump(mode="json")
    new = after.model_dump(mode="json")
    paths: list[str] = []
    for key in new:
        if old.get(key) == new[key]:
            continue
        if key in _DETAILED_SECTIONS and isinstance(new[key], dict):
            inner_old = old.get(key) or {}
            paths.extend(
                f"{key}.{sub}" for sub in new[key] if inner_old.get(sub) != new[key].get(sub)
            )
        else:
            paths.append(key)
    return paths


def with_current_states(events: Sequence[ClientEvent]) -> list[ClientAnnouncement]:
    """The events, then the state each of their clients is left in (the snapshot of its last
    event) for the compacted ClientState topic: stored with them, so the topic's newest record
    of a client is never older than its newest event."""
    last = {event.aggregate_id(): event for event in events}
    states = [ClientState.of(e.office_id, e.payload.client, caused_by=e) for e in last.values()]
    return [*events, *states]


# How long an archived client keeps its e-mail address and VAT number: meanwhile nobody else
# can take them and the office can restore it as it was; after it they are free (another office
# may add the company), and a restore needs them to be free still.
ARCHIVE_HOLD = timedelta(days=30)


@dataclass(frozen=True)
class Archived:
    at: datetime
    by: str  # the user who archived it
    claims_until: datetime
    claims_released: bool = False


@dataclass
class Recheck:
    """The register did not answer: ask again at ``due_at`` (``attempts`` asked so far)."""

    attempts: int
    due_at: datetime


@dataclass
class Client:
    client_id: str
    office_id: str
    version: int
    status: ClientStatus
    vat_check: VatCheck
    data: ClientData
    created_at: datetime
    updated_at: datetime
    origin: ImportOrigin | None = None
    recheck: Recheck | None = None
    invitation: ClientInvitation | None = None
    invitation_as_of: datetime | None = None  # the newest invitation event applied
    archived: Archived | None = None
    vat_note: VatCheckNote | None = None  # why the register refused the number
    events: list[ClientEvent] = field(default_factory=list)

    # --- creation -------------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        *,
        client_id: str,
        office_id: str,
        data: ClientData,
        vat_check: VatCheck,
        now: datetime,
        invite: bool = False,
        origin: ImportOrigin | None = None,
        caused_by: Envelope[Any] | None = None,
    ) -> Client:
        client = cls(
            client_id=client_id,
            office_id=office_id,
            version=1,
            status=ClientStatus.NOT_INVITED,
            vat_check=vat_check,
            data=data,
            created_at=now,
            updated_at=now,
            origin=origin,
        )
        payload = ClientCreatedPayload(client=client.snapshot(), invite=invite, origin=origin)
        client.events.append(
            ClientCreated.new(office_id=office_id, payload=payload, caused_by=caused_by)
        )
        return client

    # --- changes --------------------------------------------------------------------------------

    def edit(self, data: ClientData, vat_check: VatCheck, now: datetime) -> list[str]:
        """Replace the accountant's data; returns what changed (nothing: no new version)."""
        changed = changed_paths(self.data, data)
        if vat_check is not self.vat_check:
            changed.append("vat_check")
            self.vat_note = None  # a new number, or the check skipped: the old "no" is void
        if vat_check is not VatCheck.PENDING:
            self.recheck = None
        if changed:
            self.data = data
            self.vat_check = vat_check
            self._updated(changed, now)
        return changed

    def archive(self, by: str, now: datetime, hold: timedelta = ARCHIVE_HOLD) -> bool:
        """Out of the office's lists, its data kept; its e-mail and VAT number stay its own
        until ``now + hold``. False: it already was archived."""
        if self.archived is not None:
            return False
        self.archived = Archived(at=now, by=by, claims_until=now + hold)
        self._updated(["archived_at"], now)
        return True

    def restore(self, now: datetime) -> bool:
        """Back in the lists as it was (its status and settings). Its e-mail and VAT number are
        claimed again: the store refuses the restore if someone took them once released."""
        if self.archived is None:
            return False
        self.archived = None
        self._updated(["archived_at"], now)
        return True

    @property
    def holds_claims(self) -> bool:
        """Whether its e-mail and VAT number are its own (not archived, or still held)."""
        return self.archived is None or not self.archived.claims_released

    # --- what the invitations service tells (events, in any order, maybe twice) -------------

    def mark_invited(
        self,
        invitation_id: str,
        occurred_at: datetime,
        now: datetime,
        caused_by: Envelope[Any] | None = None,
    ) -> bool:
        """An invitation e-mail went out: not_invited -> inactive. A client the accountant
        activated and invites later to use the app stays active."""
        status = ClientStatus.INACTIVE if self.status is ClientStatus.NOT_INVITED else self.status
        return self._hear(news_of.sent(invitation_id, occurred_at), status, now, caused_by)

    def mark_invitation_revoked(
        self, occurred_at: datetime, now: datetime, caused_by: Envelope[Any] | None = None
    ) -> bool:
        """The office revoked the open invitation: not yet invited again (active stays active)."""
        return self._hear(news_of.revoked(occurred_at), self._uninvited(), now, caused_by)

    def mark_invitation_failed(
        self,
        invitation_id: str,
        reason: str,
        detail: str,
        occurred_at: datetime,
        now: datetime,
        caused_by: Envelope[Any] | None = None,
    ) -> bool:
        """The invitation e-mail could not be delivered: no link is out, so not yet invited
        (active stays active), the failure and its reason shown on the client."""
        news = news_of.failed(invitation_id, reason, detail, occurred_at)
        return self._hear(news, self._uninvited(), now, caused_by)

    def mark_activated(
        self,
        by: ActivatedBy,
        occurred_at: datetime,
        now: datetime,
        caused_by: Envelope[Any] | None = None,
    ) -> bool:
        """Onboarded (or activated by the accountant): -> active, whatever came before (even
        if older than what was heard since). Onboarding accepts the invitation; the
        accountant's activation voids an open one."""
        inv = self.invitation
        if by is ActivatedBy.CLIENT and inv is not None:
            inv = replace(inv, state=InvitationState.ACCEPTED, at=news_of.to_ms(occurred_at))
        elif by is ActivatedBy.ACCOUNTANT:
            inv = None
        news = InvitationNews(inv, news_of.to_ms(occurred_at))
        if news.is_older_than(self.invitation_as_of):
            news = InvitationNews(self.invitation, self.invitation_as_of or news.occurred_at)
        return self._hear(news, ClientStatus.ACTIVE, now, caused_by)

    def _uninvited(self) -> ClientStatus:
        return ClientStatus.NOT_INVITED if self.status is ClientStatus.INACTIVE else self.status

    def _hear(
        self,
        news: InvitationNews,
        status: ClientStatus,
        now: datetime,
        caused_by: Envelope[Any] | None,
    ) -> bool:
        """Apply an invitation event unless a newer one was applied; False: nothing changed.
        A new status is announced (ClientUpdated); the invitation alone is a new version only
        (other services keep no invitation state from the clients service)."""
        if news.is_older_than(self.invitation_as_of):
            return False
        if (status, news.invitation, news.occurred_at) == (
            self.status,
            self.invitation,
            self.invitation_as_of,
        ):
            return False
        self.invitation, self.invitation_as_of = news.invitation, news.occurred_at
        if status is not self.status:
            self.status = status
            self._updated(["status"], now, caused_by)
        else:
            self.version += 1
            self.updated_at = now
        return True

    def record_vat_check(
        self, vat_check: VatCheck, now: datetime, note: VatCheckNote | None = None
    ) -> bool:
        """The register answered a pending check (``note``: why it refused the number)."""
        self.recheck = None
        if (vat_check, note) == (self.vat_check, self.vat_note):
            return False
        self.vat_note = note
        if vat_check is self.vat_check:
            self.version += 1  # only the reason changed: no other service keeps it
            self.updated_at = now
            return True
        self.vat_check = vat_check
        self._updated(["vat_check"], now)
        return True

    def ask_register_again(self, due_at: datetime, *, attempts: int = 0) -> None:
        """Schedule (or reschedule) the next register check; no new version: nothing changed."""
        self.recheck = Recheck(attempts, due_at)

    def move_to_group(self, group_id: str, now: datetime) -> bool:
        if self.data.group_id == group_id:
            return False
        self.data = self.data.model_copy(update={"group_id": group_id})
        self._updated(["group_id"], now)
        return True

    def _updated(
        self, changed: list[str], now: datetime, caused_by: Envelope[Any] | None = None
    ) -> None:
        self.version += 1
        self.updated_at = now
        payload = ClientUpdatedPayload(client=self.snapshot(), changed=changed)
        self.events.append(
            ClientUpdated.new(office_id=self.office_id, payload=payload, caused_by=caused_by)
        )

    # --- views ----------------------------------------------------------------------------------

    def snapshot(self) -> ClientSnapshot:
        # Built from the already validated data without validating it again (a tenth of an
        # import's time went to re-checking every snapshot field).
        return ClientSnapshot.model_construct(
            **dict(self.data),
            client_id=self.client_id,
            version=self.version,
            status=self.status,
            vat_check=self.vat_check,
            created_at=self.created_at,
            updated_at=self.updated_at,
            archived_at=self.archived.at if self.archived else None,
        )

    def summary(self) -> ClientSummary:
        company, user = self.data.company, self.data.user
        return ClientSummary(
            client_id=self.client_id,
            office_id=self.office_id,
            company_name=company.name,
            vat_number=company.vat_number,
            internal_reference=company.internal_reference,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            status=self.status,
            group_id=self.data.group_id,
            subscription_mode=company.subscription_mode,
            vat_check=self.vat_check,
            vat_check_reason=self.vat_note.code if self.vat_note else None,
            vat_check_detail=self.vat_note.detail if self.vat_note else None,
            version=self.version,
            created_at=self.created_at,
            invitation=self.invitation,
            transfer_method=self.data.integration.target.kind,
            archived_at=self.archived.at if self.archived else None,
        )

    def pull_events(self) -> list[ClientEvent]:
        events, self.events = self.events, []
        return events
