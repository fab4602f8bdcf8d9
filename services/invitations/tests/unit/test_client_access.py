"""The ClientAccess aggregate: invite, resend, send attempts, accept, revoke, expiry, activation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from portal_invitations.domain import errors
from portal_invitations.domain.events import (
    Cause,
    ClientActivated,
    ClientInvited,
    InvitationFailed,
    InvitationRevoked,
)
from portal_invitations.domain.model import ClientAccess, ClientProfile, InvitationState
from portal_invitations.domain.sending import RetryPolicy
from portal_invitations.domain.tokens import new_token, plausible_token, token_hash

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TTL = timedelta(days=14)
POLICY = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(minutes=5), max_attempts=3)
CAUSE = Cause(correlation_id="5f0e7d1c-7d1a-4d4b-a1a4-0b5f8f0f6b10")


def profile(**changes: object) -> ClientProfile:
    base = ClientProfile(
        client_id="c-1",
        office_id="office-1",
        group_id="everyone",
        email="marie@example.be",
        first_name="Marie",
        last_name="Dubois",
        language="fr",
        subscription_mode="full_follow_up",
        status="not_invited",
        mobile_phone="+32470123456",
        version=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def invited(access: ClientAccess | None = None, invitation_id: str = "inv-1") -> ClientAccess:
    access = access or ClientAccess(profile=profile())
    access.invite(invitation_id, NOW, "accountant", CAUSE)
    return access


def sent(access: ClientAccess | None = None) -> tuple[ClientAccess, str]:
    access = invited(access)
    token = new_token()
    inv = access.begin_sending(token_hash(token), NOW, TTL, POLICY)
    assert access.sending_succeeded(inv.invitation_id, NOW)
    return access, token


def test_an_invitation_is_queued_for_now() -> None:
    access = invited()
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.PENDING
    assert access.due_for_sending(NOW)
    assert access.invitation.token_hashes == []  # no token until an e-mail is actually sent


def test_a_sent_invitation_holds_only_the_hash_and_announces_itself() -> None:
    access, token = sent()
    inv = access.invitation
    assert inv is not None
    assert inv.state is InvitationState.SENT
    assert inv.token_hashes == [token_hash(token)]
    assert token not in repr(access)
    assert inv.expires_at == NOW + TTL
    (event,) = access.events
    assert isinstance(event, ClientInvited)
    assert event.email == "marie@example.be"
    assert event.cause == CAUSE


def test_tokens_carry_256_bits() -> None:
    token = new_token()
    assert len(token) >= 43
    assert plausible_token(token)
    assert new_token() != token
    assert not plausible_token("short")
    assert not plausible_token("x" * 300)


def test_resend_voids_the_old_link() -> None:
    access, old = sent()
    access.invite("inv-2", NOW, "accountant", CAUSE)
    with pytest.raises(errors.InvitationLinkInvalid):
        access.acceptable_invitation(token_hash(old), NOW)
    assert [p.invitation_id for p in access.past] == ["inv-1"]
    assert access.past[0].end_reason == "resent"


def test_the_link_works_once() -> None:
    access, token = sent()
    access.accept(token_hash(token), "argon2-hash", NOW, CAUSE)
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.ACCEPTED
    assert access.login is not None
    assert access.login.password_hash == "argon2-hash"
    assert isinstance(access.events[-1], ClientActivated)
    assert access.events[-1].by == "client"
    with pytest.raises(errors.InvitationLinkInvalid):
        access.accept(token_hash(token), "again", NOW, CAUSE)


def test_the_link_expires() -> None:
    access, token = sent()
    later = NOW + TTL
    assert access.invitation is not None
    assert access.invitation.effective_state(later) is InvitationState.EXPIRED
    with pytest.raises(errors.InvitationLinkInvalid):
        access.acceptable_invitation(token_hash(token), later)
    access.acceptable_invitation(token_hash(token), later - timedelta(seconds=1))


def test_revoke_voids_the_link_announces_it_and_needs_an_open_invitation() -> None:
    access, token = sent()
    access.events.clear()
    access.revoke(NOW, CAUSE)
    with pytest.raises(errors.InvitationLinkInvalid):
        access.acceptable_invitation(token_hash(token), NOW)
    assert access.events == [InvitationRevoked("c-1", "office-1", "inv-1", NOW, CAUSE)]
    with pytest.raises(errors.NoOpenInvitation):
        access.revoke(NOW, CAUSE)


def test_the_mobile_number_on_record_must_be_confirmed() -> None:
    access, _ = sent()
    access.confirm_mobile("+32470123456")
    with pytest.raises(errors.MobileMismatch):
        access.confirm_mobile("+32470999999")


def test_line_breaks_in_names_are_refused_before_anything_is_queued() -> None:
    access = ClientAccess(profile=profile(last_name="Dubois\r\nBcc: victim@example.com"))
    with pytest.raises(errors.HeaderInjection) as caught:
        access.invite("inv-1", NOW, "accountant", CAUSE)
    assert caught.value.field == "user.last_name"
    assert access.invitation is None


def test_temporary_refusals_retry_with_growing_delays_then_fail() -> None:
    access = invited()
    for attempt in range(1, POLICY.max_attempts + 1):
        when = access.invitation.next_attempt_at  # type: ignore[union-attr]
        assert when is not None
        hashed = token_hash(new_token())
        access.begin_sending(hashed, when, TTL, POLICY)
        assert access.sending_deferred("inv-1", hashed, when, "smtp 451: later", POLICY, 0.5)
        inv = access.invitation
        assert inv is not None
        assert hashed not in inv.token_hashes
        if attempt < POLICY.max_attempts:
            assert inv.state is InvitationState.PENDING
            assert inv.next_attempt_at is not None
            assert inv.next_attempt_at - when == POLICY.delay(attempt, 0.5)
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.FAILED
    assert access.invitation.failure_reason == "retries_exhausted: smtp 451: later"


def test_retry_delays_are_bounded_and_jittered() -> None:
    assert POLICY.delay(1, 0.0) == timedelta(seconds=5)
    assert POLICY.delay(1, 0.999) < timedelta(seconds=10)
    assert POLICY.delay(3, 0.0) == timedelta(seconds=20)
    assert POLICY.delay(50, 1.0) == POLICY.cap


def test_a_permanent_refusal_fails_with_its_reason() -> None:
    access = invited()
    hashed = token_hash(new_token())
    access.begin_sending(hashed, NOW, TTL, POLICY)
    assert access.sending_failed("inv-1", NOW, "smtp 550: no such user")
    inv = access.invitation
    assert inv is not None
    assert inv.state is InvitationState.FAILED
    assert inv.failure_reason == "smtp 550: no such user"
    assert inv.token_hashes == []
    assert not access.due_for_sending(NOW + timedelta(days=1))


def test_an_attempt_that_never_reported_keeps_its_link_valid() -> None:
    access = invited()
    first = token_hash(new_token())
    access.begin_sending(first, NOW, TTL, POLICY)
    assert not access.due_for_sending(NOW)  # leased
    later = NOW + POLICY.lease
    second = token_hash(new_token())
    access.begin_sending(second, later, TTL, POLICY)
    assert access.sending_succeeded("inv-1", later)
    access.acceptable_invitation(first, later)
    access.acceptable_invitation(second, later)


def test_an_outcome_for_a_voided_invitation_changes_nothing() -> None:
    access = invited()
    hashed = token_hash(new_token())
    access.begin_sending(hashed, NOW, TTL, POLICY)
    access.revoke(NOW, CAUSE)
    access.events.clear()
    assert not access.sending_succeeded("inv-1", NOW)
    assert access.events == []


def test_an_e_mail_change_voids_the_invitation_and_reissues_it_to_the_new_address() -> None:
    access, token = sent()
    newer = profile(email="marie.dubois@example.be", version=2)
    assert access.record_profile(newer, NOW, "inv-2", CAUSE)
    assert access.past[-1].end_reason == "email_changed"
    inv = access.invitation
    assert inv is not None
    assert inv.invitation_id == "inv-2"
    assert inv.email == "marie.dubois@example.be"
    assert inv.state is InvitationState.PENDING
    with pytest.raises(errors.InvitationLinkInvalid):
        access.acceptable_invitation(token_hash(token), NOW)


def test_an_older_snapshot_is_ignored() -> None:
    access = ClientAccess(profile=profile(version=3))
    assert not access.record_profile(profile(email="old@example.be", version=2), NOW, "x", CAUSE)
    assert access.profile.email == "marie@example.be"


def test_the_import_invites_once_per_event() -> None:
    access = ClientAccess(profile=profile())
    assert access.invite_once("inv-import", NOW, "import", CAUSE) is not None
    assert access.invite_once("inv-import", NOW, "import", CAUSE) is None


def test_activation_is_only_for_accountant_managed_clients() -> None:
    access = ClientAccess(profile=profile())
    with pytest.raises(errors.NotAccountantManaged):
        access.activate_by_accountant(NOW, CAUSE)
    managed = invited(ClientAccess(profile=profile(subscription_mode="accountant_managed")))
    managed.activate_by_accountant(NOW, CAUSE)
    assert managed.activated_by == "accountant"
    assert managed.invitation is not None
    assert managed.invitation.state is InvitationState.REVOKED
    (event,) = managed.events
    assert isinstance(event, ClientActivated)
    assert event.by == "accountant"
    with pytest.raises(errors.ClientAlreadyActive):
        managed.activate_by_accountant(NOW, CAUSE)


def test_a_silently_activated_client_can_be_invited_later_and_stays_active() -> None:
    managed = ClientAccess(profile=profile(subscription_mode="accountant_managed"))
    managed.activate_by_accountant(NOW, CAUSE)
    managed.events.clear()
    access, token = sent(managed)  # the client starts using the app after all
    assert access.is_active
    assert isinstance(access.events[-1], ClientInvited)
    access.accept(token_hash(token), "argon2-hash", NOW, CAUSE)
    assert access.login is not None
    assert access.is_active
    assert access.activated_by == "client"
    assert isinstance(access.events[-1], ClientActivated)
    with pytest.raises(errors.ClientAlreadyActive):  # logged in: nothing left to invite to
        access.invite("inv-9", NOW, "accountant", CAUSE)


def test_a_failed_invitation_records_its_failure_for_the_other_services() -> None:
    access = invited()
    inv = access.begin_sending(token_hash(new_token()), NOW, TTL, POLICY)
    access.events.clear()
    assert access.sending_failed(inv.invitation_id, NOW, "smtp 550: no such user")
    assert access.events == [
        InvitationFailed("c-1", "office-1", "inv-1", "smtp 550: no such user", NOW, CAUSE)
    ]


def test_archiving_revokes_the_open_link_and_refuses_invite_and_activation_until_restored() -> None:
    access, _ = sent()
    access.events.clear()
    assert access.record_profile(profile(version=2, archived=True), NOW, "reissue-1", CAUSE)
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.REVOKED
    assert access.invitation.end_reason == "archived"
    assert [type(e) for e in access.events] == [InvitationRevoked]  # clients: not invited
    with pytest.raises(errors.ClientArchived):
        access.invite("inv-2", NOW, "accountant", CAUSE)
    assert access.invite_once("inv-3", NOW, "import", CAUSE) is None
    managed = ClientAccess(profile=profile(subscription_mode="accountant_managed", archived=True))
    with pytest.raises(errors.ClientArchived):
        managed.activate_by_accountant(NOW, CAUSE)
    assert access.record_profile(profile(version=3), NOW, "reissue-2", CAUSE)  # restored
    assert access.invite("inv-4", NOW, "accountant", CAUSE).invitation_id == "inv-4"
