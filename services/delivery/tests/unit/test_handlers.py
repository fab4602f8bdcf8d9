"""The delivery handlers with fakes: planning, the scheduler, a channel worker, the ledger API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_contracts.clients import EmailTarget, ManualTarget, SendTiming, Timing
from portal_contracts.identity import Caller, Role
from portal_contracts.office import OfficeSettingsChanged, OfficeSettingsChangedPayload
from portal_contracts.values import TransferMethod
from portal_delivery.domain.delivery import Problem, State
from portal_delivery.service import office
from portal_delivery.service.deps import Deps
from portal_delivery.service.planning import (
    plan_document,
    remember_client_route,
    remember_office_defaults,
)
from portal_delivery.service.sending import deliver_requested, dispatch_due
from services.delivery.tests.fakes import FakeChannel, FakeLedger, FixedClock, fake_deps
from services.delivery.tests.samples import blob, document_ready, snapshot

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
UBL_BYTES = b"<Invoice/>"
EMAIL = EmailTarget(sales="sales@yuki.be", purchase="purchase@yuki.be")
IMMEDIATELY = Timing(when=SendTiming.IMMEDIATELY)
ADMIN = Caller(office_id="o1", user_id="u1", role=Role.ADMIN)


@pytest.fixture
def deps() -> Deps:
    return fake_deps(NOW)


def ledger(deps: Deps) -> FakeLedger:
    assert isinstance(deps.ledger, FakeLedger)
    return deps.ledger


async def ready(deps: Deps, **changes: object) -> object:
    ubl = blob(UBL_BYTES, "INV-1.xml", "application/xml")
    deps.files.blobs[ubl.blob_id] = UBL_BYTES  # type: ignore[attr-defined]
    event = document_ready(ubl, **changes).model_copy(  # type: ignore[arg-type]
        update={"occurred_at": deps.clock.now()}
    )
    await plan_document(event, deps)
    return event


async def work_requests(deps: Deps, channel: FakeChannel) -> list[str]:
    outcomes = []
    for request in ledger(deps).requests():
        outcomes.append(await deliver_requested(request, channel, deps))
    ledger(deps).published = [
        e for e in ledger(deps).published if e.event_type != "DeliveryRequested"
    ]
    return outcomes


async def test_a_ready_document_is_planned_once_and_dispatched_at_once(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    event = await ready(deps)
    await plan_document(event, deps)  # replayed: nothing new
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.DISPATCHED
    assert delivery.destination == "sales@yuki.be"
    [request] = ledger(deps).requests()
    assert request.payload.channel is TransferMethod.EMAIL
    assert request.payload.attempt == 1


async def test_a_document_before_its_clients_settings_waits_then_is_planned(deps: Deps) -> None:
    await ready(deps)
    assert ledger(deps).stored == {}
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    assert [d.state for d in ledger(deps).stored.values()] == [State.DISPATCHED]
    assert deps.waiting.documents == {}  # type: ignore[attr-defined]


async def test_a_delivery_is_sent_with_its_proof_and_announced(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    channel = FakeChannel()
    assert await work_requests(deps, channel) == ["sent"]
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.SENT
    [attempt] = delivery.attempts
    assert attempt.sent[0]["size"] == len(UBL_BYTES)
    assert len(attempt.sent[0]["sha256"]) == 64
    assert attempt.receipt["summary"].startswith("250")
    [announced] = [e for e in ledger(deps).published if e.event_type == "DocumentDelivered"]
    assert announced.payload.delivery_id == delivery.delivery_id


async def test_a_duplicate_request_changes_nothing(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    [request] = ledger(deps).requests()
    channel = FakeChannel()
    assert await deliver_requested(request, channel, deps) == "sent"
    assert await deliver_requested(request, channel, deps) == "stale"
    assert len(channel.delivered) == 1


async def test_a_request_redelivered_while_a_worker_is_at_it_waits_for_its_lease(
    deps: Deps,
) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    [request] = ledger(deps).requests()
    [stored] = ledger(deps).stored.values()
    assert stored.start(1, NOW, deps.lease)  # worker A took it, then died without a word
    await ledger(deps).save(stored)
    channel = FakeChannel()
    assert await deliver_requested(request, channel, deps) == "stale"  # B must not race A
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    clock.advance(deps.lease + timedelta(seconds=1))
    assert await dispatch_due(deps) == 1  # A's lease ran out: the same attempt again
    [again] = [r for r in ledger(deps).requests() if r is not request]
    assert again.payload.attempt == 1
    assert await deliver_requested(again, channel, deps) == "sent"
    assert len(channel.delivered) == 1


async def test_transient_failures_retry_with_back_off_then_one_delivery(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    channel = FakeChannel([Problem("email.deferred", "451 try later")] * 2)
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    assert await work_requests(deps, channel) == ["retry"]
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.SCHEDULED
    assert delivery.due_at is not None
    wait = delivery.due_at - NOW
    assert timedelta(seconds=30) <= wait <= timedelta(minutes=1)  # the first back-off step
    assert await dispatch_due(deps) == 0  # not due yet
    for _ in range(2):
        clock.advance(timedelta(hours=2))
        assert await dispatch_due(deps) == 1
        await work_requests(deps, channel)
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.SENT
    assert [a.outcome for a in delivery.attempts] == ["retry", "retry", "sent"]
    assert len(channel.delivered) == 1


async def test_a_permanent_refusal_fails_with_the_reason(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    channel = FakeChannel([Problem("email.rejected", "550 5.1.1 no such user", retryable=False)])
    assert await work_requests(deps, channel) == ["failed"]
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.FAILED
    assert delivery.last_problem is not None
    assert delivery.last_problem.code == "email.rejected"
    [failed] = [e for e in ledger(deps).published if e.event_type == "DeliveryFailed"]
    assert failed.payload.reason == "email.rejected"
    assert not failed.payload.retryable


async def test_giving_up_after_the_configured_time(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    channel = FakeChannel([Problem("email.relay_unreachable")] * 100)
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    await work_requests(deps, channel)
    while (delivery := next(iter(ledger(deps).stored.values()))).state is not State.FAILED:
        clock.advance(timedelta(hours=2, minutes=1))
        await dispatch_due(deps)
        await work_requests(deps, channel)
    assert delivery.attempts[-1].outcome == "failed"
    assert clock.now() - NOW >= deps.retry.give_up_after


async def test_a_failing_destination_is_paused_without_holding_up_others(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    for _ in range(6):
        await ready(deps)
    channel = FakeChannel([Problem("email.relay_unreachable")] * 5)
    outcomes = await work_requests(deps, channel)
    assert outcomes == ["retry"] * 5 + ["postponed"]  # the sixth never connected
    assert channel.delivered == []


async def test_a_throttled_destination_waits_as_told_then_goes_on_without_a_breaker(
    deps: Deps,
) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    for _ in range(3):
        await ready(deps)
    wait = timedelta(seconds=30)
    channel = FakeChannel([Problem("onedrive.throttled", "429", retry_after=wait)])
    assert await work_requests(deps, channel) == ["retry", "postponed", "postponed"]
    key = "o1:email:sales@yuki.be"
    assert await deps.destinations.paused_until(key, NOW) == NOW + wait  # all of them wait
    assert deps.destinations.failures == {}  # type: ignore[attr-defined]  # no outage counted
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    clock.advance(deps.retry.base + timedelta(seconds=1))  # the retried one's back-off too
    await dispatch_due(deps)
    assert await work_requests(deps, channel) == ["sent"] * 3


async def test_a_deleted_document_is_cancelled_not_sent(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    deps.files.blobs.clear()  # type: ignore[attr-defined]
    assert await work_requests(deps, FakeChannel()) == ["cancelled"]
    assert [d.state for d in ledger(deps).stored.values()] == [State.CANCELLED]


async def test_manual_is_recorded_and_nothing_is_requested(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=ManualTarget()), deps)
    await ready(deps)
    assert [d.state for d in ledger(deps).stored.values()] == [State.RECORDED]
    assert ledger(deps).requests() == []


async def test_a_delayed_delivery_waits_and_a_settings_change_reschedules_it(deps: Deps) -> None:
    delayed = Timing(when=SendTiming.DELAYED, delay_days=3)
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=delayed), deps)
    event = await ready(deps)
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.SCHEDULED
    assert delivery.due_at == event.occurred_at + timedelta(days=3)  # type: ignore[attr-defined]
    assert await dispatch_due(deps) == 0
    await remember_client_route("o1", snapshot(2, target=EMAIL, timing=IMMEDIATELY), deps)
    [delivery] = ledger(deps).stored.values()
    assert delivery.due_at == event.occurred_at  # type: ignore[attr-defined]
    assert delivery.timing["when"] == "immediately"
    assert await dispatch_due(deps) == 1


async def test_an_office_default_change_reschedules_what_follows_the_office(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL), deps)  # no exception: office
    await remember_office_defaults(_office(1, Timing(when=SendTiming.DELAYED, delay_days=5)), deps)
    await ready(deps)
    [delivery] = ledger(deps).stored.values()
    assert delivery.state is State.SCHEDULED
    await remember_office_defaults(_office(2, IMMEDIATELY), deps)
    await remember_office_defaults(_office(1, Timing(when=SendTiming.DELAYED, delay_days=9)), deps)
    [delivery] = ledger(deps).stored.values()
    assert delivery.timing == {"when": "immediately", "delay_days": None, "source": "office"}


def _office(version: int, timing: Timing) -> OfficeSettingsChanged:
    return OfficeSettingsChanged.new(
        office_id="o1",
        payload=OfficeSettingsChangedPayload(
            version=version, enabled_transfer_methods=[TransferMethod.EMAIL], default_timing=timing
        ),
    )


async def test_the_ledger_api_keeps_offices_and_groups_apart(deps: Deps) -> None:
    await remember_client_route(
        "o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY, group_id="g1"), deps
    )
    await ready(deps)
    [delivery] = ledger(deps).stored.values()
    assert [d.delivery_id for d in await office.list_deliveries(ADMIN, deps)] == [
        delivery.delivery_id
    ]
    other_office = Caller(office_id="o2", user_id="u2", role=Role.ADMIN)
    assert await office.list_deliveries(other_office, deps) == []
    with pytest.raises(office.NotFound):
        await office.get_delivery(other_office, delivery.delivery_id, deps)
    outsider = Caller(office_id="o1", user_id="u3", role=Role.STAFF, groups=("g2",))
    assert await office.list_deliveries(outsider, deps) == []
    with pytest.raises(office.NotFound):
        await office.get_delivery(outsider, delivery.delivery_id, deps)
    member = Caller(office_id="o1", user_id="u4", role=Role.STAFF, groups=("g1",))
    assert (
        await office.get_delivery(member, delivery.delivery_id, deps)
    ).delivery_id == delivery.delivery_id


async def test_staff_act_on_everyone_s_deliveries_and_not_on_a_group_they_lack(
    deps: Deps,
) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    [shared] = ledger(deps).stored.values()
    assert shared.group_id == "everyone"
    staff = Caller(office_id="o1", user_id="u5", role=Role.STAFF, groups=("g2",))
    assert [d.delivery_id for d in await office.list_deliveries(staff, deps)] == [
        shared.delivery_id
    ]
    assert (await office.get_delivery(staff, shared.delivery_id, deps)) is not None
    with pytest.raises(office.NotRetryable):  # reached it: only not failed
        await office.retry_delivery(staff, shared.delivery_id, deps)
    lacking = Caller(office_id="o1", user_id="u6", role=Role.STAFF, groups=("g9",))
    ledger(deps).stored[shared.delivery_id].group_id = "g1"
    assert await office.list_deliveries(lacking, deps) == []
    with pytest.raises(office.NotFound):
        await office.retry_delivery(lacking, shared.delivery_id, deps)


async def test_only_a_failed_delivery_is_retried_and_then_sent(deps: Deps) -> None:
    await remember_client_route("o1", snapshot(1, target=EMAIL, timing=IMMEDIATELY), deps)
    await ready(deps)
    [delivery] = ledger(deps).stored.values()
    with pytest.raises(office.NotRetryable):
        await office.retry_delivery(ADMIN, delivery.delivery_id, deps)
    await work_requests(deps, FakeChannel([Problem("email.rejected", retryable=False)]))
    retried = await office.retry_delivery(ADMIN, delivery.delivery_id, deps)
    assert retried.state is State.SCHEDULED
    assert await dispatch_due(deps) == 1
    assert await work_requests(deps, FakeChannel()) == ["sent"]
    assert [a.outcome for a in ledger(deps).stored[delivery.delivery_id].attempts] == [
        "failed",
        "sent",
    ]
