"""A client's status and invitation state from the invitations service's events: sent, revoked,
failed, accepted; repeated and out-of-order events; a silently activated client invited later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal_client_rules import OfficeRules, check_client
from portal_clients.domain.invitation import InvitationState
from portal_clients.domain.model import Client
from portal_clients.testing.samples import client_form
from portal_contracts.clients import ActivatedBy, ClientUpdated, VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode, TransferMethod

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T1, T2, T3, T4 = (NOW + timedelta(seconds=n) for n in (1, 2, 3, 4))
RULES = OfficeRules(frozenset({TransferMethod.MANUAL}), None, date(2026, 3, 2))


def new_client(**company: object) -> Client:
    form = client_form(1, company=company) if company else client_form(1)
    client = Client.register(
        client_id="c1",
        office_id="o1",
        data=check_client(form, RULES),
        vat_check=VatCheck.VALID,
        now=NOW,
    )
    client.pull_events()
    return client


def test_an_invitation_sent_makes_the_client_inactive_and_shows_it() -> None:
    client = new_client()
    assert client.mark_invited("inv-1", T1, NOW)
    assert client.status is ClientStatus.INACTIVE
    assert client.invitation is not None
    assert (client.invitation.invitation_id, client.invitation.state) == (
        "inv-1",
        InvitationState.SENT,
    )
    [event] = client.pull_events()
    assert isinstance(event, ClientUpdated)
    assert event.payload.changed == ["status"]
    assert client.summary().invitation == client.invitation


def test_a_revocation_makes_the_client_not_yet_invited_again() -> None:
    client = new_client()
    client.mark_invited("inv-1", T1, NOW)
    assert client.mark_invitation_revoked(T2, NOW)
    assert (client.status, client.invitation) == (ClientStatus.NOT_INVITED, None)
    assert client.version == 3
    [_, revoked] = client.pull_events()
    assert isinstance(revoked, ClientUpdated)
    assert revoked.payload.client.status is ClientStatus.NOT_INVITED


def test_a_failed_e_mail_shows_its_reason_and_the_client_is_not_invited() -> None:
    client = new_client()
    assert client.mark_invitation_failed("inv-1", "mail.rejected", "smtp 550: no user", T1, NOW)
    assert client.status is ClientStatus.NOT_INVITED
    assert client.invitation is not None
    assert client.invitation.state is InvitationState.FAILED
    assert (client.invitation.reason, client.invitation.detail) == (
        "mail.rejected",
        "smtp 550: no user",
    )
    assert client.version == 2
    assert client.pull_events() == []  # the status did not change: a new version, no event


def test_a_resend_that_fails_takes_the_client_back_to_not_invited() -> None:
    client = new_client()
    client.mark_invited("inv-1", T1, NOW)
    assert client.mark_invitation_failed("inv-2", "mail.rejected", "", T2, NOW)
    assert client.status is ClientStatus.NOT_INVITED  # the resend voided the first link
    assert client.invitation is not None
    assert client.invitation.detail is None


def test_every_event_applied_twice_changes_nothing_the_second_time() -> None:
    client = new_client()
    steps = [
        lambda: client.mark_invited("inv-1", T1, NOW),
        lambda: client.mark_invitation_revoked(T2, NOW),
        lambda: client.mark_invitation_failed("inv-2", "mail.rejected", "x", T3, NOW),
        lambda: client.mark_activated(ActivatedBy.CLIENT, T4, NOW),
    ]
    for step in steps:
        assert step()
        version = client.version
        assert not step()
        assert client.version == version


def test_an_older_event_arriving_late_is_ignored() -> None:
    client = new_client()
    assert client.mark_invitation_revoked(T2, NOW)  # the revocation overtook the invitation
    assert not client.mark_invited("inv-1", T1, NOW)
    assert (client.status, client.invitation) == (ClientStatus.NOT_INVITED, None)
    assert client.mark_invited("inv-2", T3, NOW)  # a later invitation still counts
    assert not client.mark_invitation_failed("inv-1", "mail.rejected", "", T2, NOW)
    assert client.status is ClientStatus.INACTIVE


def test_revocations_keep_the_newest_time_even_when_nothing_shows() -> None:
    # invite 1, revoke 1, invite 2, revoke 2 received as: revoke 1, revoke 2, invite 1, invite 2
    client = new_client()
    assert client.mark_invitation_revoked(T2, NOW)
    assert client.mark_invitation_revoked(T4, NOW)
    assert not client.mark_invited("inv-1", T1, NOW)
    assert not client.mark_invited("inv-2", T3, NOW)
    assert (client.status, client.invitation) == (ClientStatus.NOT_INVITED, None)


def test_onboarding_accepts_the_invitation_and_a_late_revocation_does_not_undo_it() -> None:
    client = new_client()
    client.mark_invited("inv-1", T1, NOW)
    assert client.mark_activated(ActivatedBy.CLIENT, T3, NOW)
    assert client.status is ClientStatus.ACTIVE
    assert client.invitation is not None
    assert client.invitation.state is InvitationState.ACCEPTED
    assert not client.mark_invitation_revoked(T2, NOW)
    assert not client.mark_invited("inv-1", T1, NOW)
    assert client.status is ClientStatus.ACTIVE


def test_an_activation_older_than_the_invitation_still_activates() -> None:
    client = new_client()
    client.mark_invited("inv-1", T2, NOW)
    assert client.mark_activated(ActivatedBy.ACCOUNTANT, T1, NOW)
    assert client.status is ClientStatus.ACTIVE
    assert client.invitation is not None  # the newer invitation stays
    assert client.invitation.state is InvitationState.SENT


def test_a_silently_activated_client_can_be_invited_later_and_stays_active() -> None:
    client = new_client(subscription_mode=SubscriptionMode.ACCOUNTANT_MANAGED.value)
    assert client.mark_activated(ActivatedBy.ACCOUNTANT, T1, NOW)
    assert client.invitation is None
    client.pull_events()
    assert client.mark_invited("inv-1", T2, NOW)
    assert client.status is ClientStatus.ACTIVE
    assert client.invitation is not None
    assert client.invitation.state is InvitationState.SENT
    assert client.pull_events() == []  # the status did not change
    assert client.mark_invitation_failed("inv-1", "mail.rejected", "", T3, NOW)
    assert client.status is ClientStatus.ACTIVE  # a failed e-mail does not deactivate it
    assert client.mark_invitation_revoked(T4, NOW)
    assert (client.status, client.invitation) == (ClientStatus.ACTIVE, None)
    assert client.mark_activated(ActivatedBy.CLIENT, T4 + timedelta(seconds=1), NOW)
    assert client.status is ClientStatus.ACTIVE


def test_times_are_kept_to_the_millisecond_so_a_stored_event_equals_its_redelivery() -> None:
    client = new_client()
    at = T1.replace(microsecond=123456)
    client.mark_invited("inv-1", at, NOW)
    assert client.invitation_as_of == T1.replace(microsecond=123000)
    assert not client.mark_invited("inv-1", at, NOW)
