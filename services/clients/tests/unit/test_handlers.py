"""Handlers wired with in-memory fakes: the rules, tenancy, groups, VAT register outcomes and the
all-or-none import, without any server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_client_rules import OfficeRules, check_client
from portal_clients.domain.errors import Conflict, Forbidden, Invalid, NotFound, StaleVersion
from portal_clients.domain.listing import ClientQuery
from portal_clients.domain.vat import RegisterVerdict
from portal_clients.service import clients, events, imports, office, states
from portal_clients.service.clients import ClientInput
from portal_clients.testing.samples import client_form, normalised_vat
from portal_contracts.clients import ClientCreated, ClientUpdated, VatCheck
from portal_contracts.identity import Caller, Role
from portal_contracts.imports import ImportRow, ImportValidated, ImportValidatedPayload
from portal_contracts.values import TransferMethod

from ..fakes import fake_deps

ADMIN = Caller(office_id="o1", user_id="admin", role=Role.ADMIN)
OTHER = Caller(office_id="o2", user_id="admin2", role=Role.ADMIN)


async def test_add_normalises_checks_the_register_and_records_client_created() -> None:
    deps = fake_deps()
    client = await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    assert client.data.user.email == "info+shop1@example.be"
    assert client.vat_check is VatCheck.VALID
    assert deps.register.asked == [normalised_vat(1)]  # type: ignore[attr-defined]
    [event] = deps.clients.published  # type: ignore[attr-defined]
    assert isinstance(event, ClientCreated)


async def test_rules_collect_every_problem() -> None:
    deps = fake_deps()
    form = client_form(1, user={"email": "nope", "language": "de"}, company={"name": ""})
    with pytest.raises(Invalid) as raised:
        await clients.create_client(ClientInput(form), ADMIN, deps)
    assert {i.field for i in raised.value.issues} == {"user.email", "user.language", "company.name"}


async def test_register_outcomes() -> None:
    deps = fake_deps()
    deps.register.verdicts[normalised_vat(1)] = RegisterVerdict.INVALID  # type: ignore[attr-defined]
    deps.register.verdicts[normalised_vat(2)] = RegisterVerdict.UNAVAILABLE  # type: ignore[attr-defined]
    with pytest.raises(Invalid):
        await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    skipped = await clients.create_client(
        ClientInput(client_form(1), skip_vat_check=True), ADMIN, deps
    )
    assert skipped.vat_check is VatCheck.SKIPPED
    pending = await clients.create_client(ClientInput(client_form(2)), ADMIN, deps)
    assert pending.vat_check is VatCheck.PENDING
    assert pending.recheck is not None
    assert [c.client_id for c in deps.clients.rows.values() if c.recheck] == [pending.client_id]  # type: ignore[attr-defined]


async def test_edit_needs_the_current_version_and_stays_in_the_office() -> None:
    deps = fake_deps()
    client = await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    renamed = ClientInput(client_form(1, company={"name": "New"}))
    with pytest.raises(NotFound):
        await clients.update_client(client.client_id, renamed, 1, OTHER, deps)
    with pytest.raises(StaleVersion):
        await clients.update_client(client.client_id, renamed, 7, ADMIN, deps)
    edited = await clients.update_client(client.client_id, renamed, 1, ADMIN, deps)
    assert edited.version == 2
    assert isinstance(deps.clients.published[-1], ClientUpdated)  # type: ignore[attr-defined]


async def test_a_company_belongs_to_one_office() -> None:
    deps = fake_deps()
    await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    with pytest.raises(Conflict) as raised:
        await clients.create_client(
            ClientInput(client_form(2, company={"vat_number": normalised_vat(1)})), OTHER, deps
        )
    assert raised.value.code == "company.on_platform"
    assert deps.register.asked == [normalised_vat(1)]  # type: ignore[attr-defined]


async def test_staff_only_reach_their_groups() -> None:
    deps = fake_deps()
    gent = await office.create_group("Gent", ADMIN, deps)
    brugge = await office.create_group("Brugge", ADMIN, deps)
    staff = Caller(office_id="o1", user_id="s", role=Role.STAFF, groups=(gent.group_id,))
    with pytest.raises(Forbidden):
        await clients.create_client(
            ClientInput(client_form(1, group_id=brugge.group_id)), staff, deps
        )
    in_brugge = await clients.create_client(
        ClientInput(client_form(2, group_id=brugge.group_id)), ADMIN, deps
    )
    with pytest.raises(NotFound):
        await clients.get_client(in_brugge.client_id, staff, deps)
    mine = await clients.create_client(
        ClientInput(client_form(3, group_id=gent.group_id)), staff, deps
    )
    page = await clients.list_clients(ClientQuery(office_id="o1"), staff, deps)
    assert [r.client_id for r in page.items] == [mine.client_id]
    with pytest.raises(Forbidden):
        await office.create_group("Mine", staff, deps)


async def test_staff_act_on_everyone_s_clients_and_not_on_a_group_they_lack() -> None:
    deps = fake_deps()
    gent = await office.create_group("Gent", ADMIN, deps)
    brugge = await office.create_group("Brugge", ADMIN, deps)
    staff = Caller(office_id="o1", user_id="s", role=Role.STAFF, groups=(gent.group_id,))
    shared = await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    assert shared.data.group_id == "everyone"
    in_brugge = await clients.create_client(
        ClientInput(client_form(2, group_id=brugge.group_id)), ADMIN, deps
    )
    assert (await clients.get_client(shared.client_id, staff, deps)).client_id == shared.client_id
    edited = await clients.update_client(
        shared.client_id, ClientInput(client_form(1, company={"name": "Renamed"})), 1, staff, deps
    )
    assert edited.data.company.name == "Renamed"
    page = await clients.list_clients(ClientQuery(office_id="o1"), staff, deps)
    assert [r.client_id for r in page.items] == [shared.client_id]
    assert {g.group_id for g in await office.list_groups(staff, deps)} == {
        "everyone",
        gent.group_id,
    }
    with pytest.raises(NotFound):
        await clients.get_client(in_brugge.client_id, staff, deps)
    with pytest.raises(NotFound):
        await clients.update_client(
            in_brugge.client_id, ClientInput(client_form(2)), 1, staff, deps
        )


async def test_a_group_with_clients_is_deleted_only_by_moving_them() -> None:
    deps = fake_deps()
    gent = await office.create_group("Gent", ADMIN, deps)
    client = await clients.create_client(
        ClientInput(client_form(1, group_id=gent.group_id)), ADMIN, deps
    )
    with pytest.raises(Conflict):
        await office.delete_group(gent.group_id, None, ADMIN, deps)
    assert await office.delete_group(gent.group_id, "everyone", ADMIN, deps) == 1
    assert (await clients.get_client(client.client_id, ADMIN, deps)).data.group_id == "everyone"


async def test_the_recheck_settles_a_pending_check_or_backs_off() -> None:
    deps = fake_deps()
    deps.register.verdicts[normalised_vat(1)] = RegisterVerdict.UNAVAILABLE  # type: ignore[attr-defined]
    client = await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    deps.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    assert await events.recheck_vat(deps) == 1
    stored = await clients.get_client(client.client_id, ADMIN, deps)
    assert stored.recheck is not None
    assert stored.recheck.attempts == 1
    assert stored.version == 1  # nothing changed for anyone
    deps.register.verdicts[normalised_vat(1)] = RegisterVerdict.VALID  # type: ignore[attr-defined]
    deps.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert await events.recheck_vat(deps) == 1
    settled = await clients.get_client(client.client_id, ADMIN, deps)
    assert (settled.vat_check, settled.recheck, settled.version) == (VatCheck.VALID, None, 2)
    assert await events.recheck_vat(deps) == 0


def _chunk(numbers: list[int], index: int = 0, count: int = 1) -> ImportValidated:
    rules = OfficeRules(frozenset({TransferMethod.MANUAL}), None, fake_deps().clock.today())
    return ImportValidated.new(
        office_id="o1",
        payload=ImportValidatedPayload(
            import_id="imp",
            version=1,
            chunk_index=index,
            chunk_count=count,
            row_count=len(numbers) * count,
            rows=[
                ImportRow(row_number=n, invite=True, client=check_client(client_form(n), rules))
                for n in numbers
            ],
        ),
    )


async def test_an_import_is_hidden_until_complete_then_committed_once() -> None:
    deps = fake_deps()
    await imports.import_validated(_chunk([2, 3], 0, 2), deps)
    assert (await clients.list_clients(ClientQuery(office_id="o1"), ADMIN, deps)).items == []
    await imports.import_validated(_chunk([4], 1, 2), deps)
    await imports.import_validated(_chunk([4], 1, 2), deps)  # redelivered
    [answer] = deps.imports.answers  # type: ignore[attr-defined]
    assert sorted(answer.payload.client_ids) == [2, 3, 4]
    page = await clients.list_clients(ClientQuery(office_id="o1"), ADMIN, deps)
    assert len(page.items) == 3
    created = [e for e in deps.clients.published if isinstance(e, ClientCreated)]  # type: ignore[attr-defined]
    assert all(e.payload.invite for e in created)
    assert len(created) == 3


async def test_an_import_with_a_taken_email_is_rejected_whole() -> None:
    deps = fake_deps()
    await clients.create_client(
        ClientInput(client_form(50, user={"email": client_form(3)["user"]["email"]})), OTHER, deps
    )
    await imports.import_validated(_chunk([2, 3, 4]), deps)
    [answer] = deps.imports.answers  # type: ignore[attr-defined]
    assert [(r.row_number, r.code) for r in answer.payload.rows] == [(3, "email.taken")]
    assert (await clients.list_clients(ClientQuery(office_id="o1"), ADMIN, deps)).items == []


async def test_a_large_import_is_answered_in_parts_that_each_fit_a_kafka_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "ANSWER_ROWS_PER_PART", 2)  # 5,000 in production
    deps = fake_deps()
    await imports.import_validated(_chunk([2, 3, 4, 5, 6]), deps)
    answers = deps.imports.answers  # type: ignore[attr-defined]
    assert [(a.payload.chunk_index, a.payload.chunk_count) for a in answers] == [
        (0, 3),
        (1, 3),
        (2, 3),
    ]
    assert [sorted(a.payload.client_ids) for a in answers] == [[2, 3], [4, 5], [6]]
    assert {a.correlation_id for a in answers} == {answers[0].correlation_id}


def test_a_part_of_the_largest_answer_stays_well_under_the_kafka_message_limit() -> None:
    from portal_contracts.imports import (
        ANSWER_ROWS_PER_PART,
        ImportCommitted,
        ImportCommittedPayload,
    )

    part = ImportCommitted.new(
        office_id="o1",
        payload=ImportCommittedPayload(
            import_id="imp",
            version=1,
            client_ids={1_048_576 - n: f"{n:032x}" for n in range(ANSWER_ROWS_PER_PART)},
            chunk_index=0,
            chunk_count=21,
        ),
    )
    assert len(part.model_dump_json()) < 512 * 1024


async def test_republishing_pages_through_every_client_in_id_order_once() -> None:
    deps = fake_deps()
    for n in range(5):
        await clients.create_client(ClientInput(client_form(n)), ADMIN, deps)
    await clients.create_client(ClientInput(client_form(9)), OTHER, deps)
    assert await states.republish_states(deps, page=2) == 6
    published = deps.clients.published_states  # type: ignore[attr-defined]
    ids = [s.payload.client.client_id for s in published]
    assert ids == sorted(ids)
    assert len(set(ids)) == 6
    assert await states.republish_states(deps, office_id="o2") == 1
    assert await states.republish_states(deps, after=ids[3]) == 2  # resumed


async def test_a_refused_number_keeps_why_until_the_accountant_vouches_for_it() -> None:
    deps = fake_deps()
    deps.register.verdicts[normalised_vat(1)] = RegisterVerdict.UNAVAILABLE  # type: ignore[attr-defined]
    client = await clients.create_client(ClientInput(client_form(1)), ADMIN, deps)
    deps.register.verdicts[normalised_vat(1)] = RegisterVerdict.INVALID  # type: ignore[attr-defined]
    deps.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    assert await events.recheck_vat(deps) == 1
    refused = await clients.get_client(client.client_id, ADMIN, deps)
    assert refused.vat_check is VatCheck.INVALID
    assert refused.vat_note is not None
    assert refused.vat_note.code == "vat.not_registered"
    assert refused.summary().vat_check_reason == "vat.not_registered"

    edited = await clients.update_client(
        client.client_id, ClientInput(client_form(1), skip_vat_check=True), None, ADMIN, deps
    )
    assert (edited.vat_check, edited.vat_note, edited.recheck) == (VatCheck.SKIPPED, None, None)
