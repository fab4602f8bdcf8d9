"""Handlers and the sender wired with fakes: tenancy, idempotency, outcomes, acceptance."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from portal_contracts.identity import Caller, Role
from portal_invitations.domain import errors
from portal_invitations.domain.events import (
    Cause,
    ClientActivated,
    ClientInvited,
    InvitationFailed,
    InvitationRevoked,
)
from portal_invitations.domain.model import ClientProfile, InvitationState
from portal_invitations.ports import MailRefused
from portal_invitations.service import commands, handlers
from portal_invitations.service.deps import Deps
from portal_invitations.service.sender import InvitationSender

from ..fakes import (
    FakeClientAccess,
    FakeFailures,
    FakeMailer,
    FakeQuota,
    FixedClock,
    fake_dependencies,
)

ADMIN = commands.Accountant("office-a", "u-1", None)


def record(
    client_id: str = "c-1", *, invite: bool = False, event_id: str = "e-1", **kw: object
) -> commands.RecordClient:
    values: dict[str, object] = {
        "client_id": client_id, "office_id": "office-a", "group_id": "g-1",
        "email": "marie@example.be", "first_name": "Marie", "last_name": "Dubois",
        "language": "fr", "subscription_mode": "full_follow_up", "status": "not_invited",
        "mobile_phone": "+32470123456", "version": 1,
    }  # fmt: skip
    values.update(kw)
    return commands.RecordClient(ClientProfile(**values), event_id, Cause(), invite)  # type: ignore[arg-type]


def sender_for(deps: Deps) -> InvitationSender:
    return InvitationSender(deps, jitter=lambda: 0.0)


def sent(deps: Deps) -> list[EmailMessage]:
    mailer = deps.mailer
    assert isinstance(mailer, FakeMailer)
    return list(mailer.sent)


async def test_the_same_client_created_twice_queues_one_invitation() -> None:
    deps = fake_dependencies()
    await handlers.record_client(record(invite=True), deps)
    await handlers.record_client(record(invite=True), deps)
    assert await sender_for(deps).send_due() == 1
    await handlers.record_client(record(invite=True), deps)
    assert await sender_for(deps).send_due() == 0
    assert len(sent(deps)) == 1
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    assert [type(e) for e in store.published] == [ClientInvited]


async def test_another_office_or_group_does_not_see_the_client() -> None:
    deps = fake_dependencies()
    await handlers.record_client(record(), deps)
    for caller in (
        commands.Accountant("office-b", "u-2", None),
        commands.Accountant("office-a", "u-3", frozenset({"g-2"})),
    ):
        with pytest.raises(handlers.ClientNotFound):
            await handlers.invite_client(commands.InviteClient("c-1", caller), deps)
    staff = commands.Accountant("office-a", "u-4", frozenset({"g-1"}))
    access = await handlers.invite_client(commands.InviteClient("c-1", staff), deps)
    assert access.invitation is not None


async def test_staff_act_on_everyone_s_clients_and_not_on_a_group_they_lack() -> None:
    deps = fake_dependencies()
    await handlers.record_client(record("c-everyone", group_id="everyone"), deps)
    await handlers.record_client(record("c-g2", group_id="g-2", email="jan@example.be"), deps)
    staff = commands.Accountant.of(
        Caller(office_id="office-a", user_id="u-5", role=Role.STAFF, groups=("g-1",))
    )
    access = await handlers.invite_client(commands.InviteClient("c-everyone", staff), deps)
    assert access.invitation is not None
    await handlers.revoke_invitation(commands.RevokeInvitation("c-everyone", staff), deps)
    with pytest.raises(handlers.ClientNotFound):
        await handlers.invite_client(commands.InviteClient("c-g2", staff), deps)


async def test_a_revocation_and_a_failure_are_published() -> None:
    deps = fake_dependencies()
    await handlers.record_client(record(), deps)
    await handlers.invite_client(commands.InviteClient("c-1", ADMIN), deps)
    await handlers.revoke_invitation(commands.RevokeInvitation("c-1", ADMIN), deps)
    await handlers.invite_client(commands.InviteClient("c-1", ADMIN), deps)
    mailer = deps.mailer
    assert isinstance(mailer, FakeMailer)
    mailer.refusals.append(MailRefused("smtp 550: no such user", permanent=True))
    assert await sender_for(deps).send_due() == 1
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    assert [type(e) for e in store.published] == [InvitationRevoked, InvitationFailed]
    failed = store.published[-1]
    assert isinstance(failed, InvitationFailed)
    assert failed.reason == "smtp 550: no such user"


async def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails() -> None:
    clock = FixedClock()
    deps = fake_dependencies(clock)
    mailer = deps.mailer
    assert isinstance(mailer, FakeMailer)
    mailer.refusals.extend(
        [
            MailRefused("smtp 451: later", permanent=False),
            MailRefused("smtp 550: unknown", permanent=True),
        ]
    )
    sender = sender_for(deps)
    await handlers.record_client(record(invite=True), deps)
    await sender.send_due()
    access = await deps.access.get("c-1")
    assert access is not None
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.PENDING
    clock.moment += timedelta(seconds=5)
    await sender.send_due()
    access = await deps.access.get("c-1")
    assert access is not None
    assert access.invitation is not None
    assert access.invitation.state is InvitationState.FAILED
    assert access.invitation.failure_reason == "smtp 550: unknown"
    assert mailer.sent == []


async def test_the_office_quota_delays_without_dropping() -> None:
    clock = FixedClock()
    deps = fake_dependencies(clock, quota=FakeQuota(per_hour=1))
    sender = sender_for(deps)
    for n in range(2):
        await handlers.record_client(record(f"c-{n}", invite=True, event_id=f"e-{n}"), deps)
    await sender.send_due()
    assert await sender.send_due() == 0  # postponed to the next hour
    assert len(sent(deps)) == 1
    clock.moment += timedelta(hours=1)
    await sender.send_due()
    assert len(sent(deps)) == 2


async def test_accept_checks_the_link_the_mobile_and_the_password() -> None:
    deps = fake_dependencies()
    await handlers.record_client(record(invite=True), deps)
    await sender_for(deps).send_due()
    body = sent(deps)[0].get_body(("plain",))
    assert body is not None
    token = next(line for line in body.get_content().splitlines() if "token=" in line)
    token = token.split("token=")[1]

    def accept(**kw: str) -> commands.AcceptInvitation:
        values = {"token": token, "password": "cheval correct agrafe pile",
                  "mobile_phone": "0470 12 34 56", "client_address": "203.0.113.7"}  # fmt: skip
        values.update(kw)
        return commands.AcceptInvitation(**values)

    with pytest.raises(errors.InvitationLinkInvalid):
        await handlers.accept_invitation(accept(token="x" * 43), deps)
    with pytest.raises(errors.MobileMismatch):
        await handlers.accept_invitation(accept(mobile_phone="+32470000000"), deps)
    with pytest.raises(errors.WeakPassword):
        await handlers.accept_invitation(accept(password="short"), deps)
    access = await handlers.accept_invitation(accept(), deps)
    assert access.login is not None
    assert access.login.password_hash == "hashed:26"
    with pytest.raises(errors.InvitationLinkInvalid):
        await handlers.accept_invitation(accept(), deps)
    store = deps.access
    assert isinstance(store, FakeClientAccess)
    assert isinstance(store.published[-1], ClientActivated)


async def test_links_that_lead_nowhere_are_limited_per_address_but_a_valid_one_goes_in() -> None:
    deps = fake_dependencies()
    assert isinstance(deps.address_failures, FakeFailures)
    deps.address_failures.limit = 2
    await handlers.record_client(record(invite=True), deps)
    await sender_for(deps).send_due()
    body = sent(deps)[0].get_body(("plain",))
    assert body is not None
    token = next(line for line in body.get_content().splitlines() if "token=" in line)

    def accept(token: str, mobile: str = "0470123456") -> commands.AcceptInvitation:
        return commands.AcceptInvitation(
            token, "cheval correct agrafe pile", mobile, "198.51.100.1"
        )

    for n in range(2):
        with pytest.raises(errors.InvitationLinkInvalid):
            await handlers.accept_invitation(accept(f"guess-{n}-" + "y" * 40), deps)
    with pytest.raises(handlers.TooManyAttempts):
        await handlers.accept_invitation(accept("guess-3-" + "y" * 40), deps)
    access = await handlers.accept_invitation(accept(token.split("token=")[1]), deps)
    assert access.login is not None


async def test_wrong_mobile_numbers_are_limited_per_link() -> None:
    deps = fake_dependencies()
    assert isinstance(deps.link_failures, FakeFailures)
    deps.link_failures.limit = 3
    await handlers.record_client(record(invite=True), deps)
    await sender_for(deps).send_due()
    body = sent(deps)[0].get_body(("plain",))
    assert body is not None
    token = next(line for line in body.get_content().splitlines() if "token=" in line)
    cmd = commands.AcceptInvitation(
        token.split("token=")[1], "cheval correct agrafe pile", "+32470000000", "198.51.100.1"
    )
    for _ in range(3):
        with pytest.raises(errors.MobileMismatch):
            await handlers.accept_invitation(cmd, deps)
    right = commands.AcceptInvitation(cmd.token, cmd.password, "0470123456", "203.0.113.9")
    with pytest.raises(handlers.TooManyAttempts):  # from anywhere, even with the right number
        await handlers.accept_invitation(right, deps)
