"""The Client aggregate, list paging and cursors, office settings and the re-check backoff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_client_rules import OfficeRules, check_client
from portal_clients.domain.listing import (
    ClientQuery,
    ClientSummary,
    Cursor,
    InvalidCursor,
    SortKey,
    page_of,
)
from portal_clients.domain.model import Client, changed_paths, imported_client_id
from portal_clients.domain.office import OfficeSettings
from portal_clients.domain.vat import RecheckPolicy
from portal_clients.testing.samples import client_form
from portal_contracts.clients import ActivatedBy, ClientCreated, ClientUpdated, VatCheck
from portal_contracts.values import ClientStatus, SubscriptionMode, TransferMethod

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RULES = OfficeRules(frozenset({TransferMethod.MANUAL}), None, date(2026, 3, 2))


def new_client(n: int = 1) -> Client:
    return Client.register(
        client_id=f"c{n}",
        office_id="o1",
        data=check_client(client_form(n), RULES),
        vat_check=VatCheck.VALID,
        now=NOW,
    )


def test_a_new_client_is_not_invited_and_records_client_created_with_its_snapshot() -> None:
    client = new_client()
    [event] = client.pull_events()
    assert isinstance(event, ClientCreated)
    assert event.payload.client == client.snapshot()
    assert (client.status, client.version) == (ClientStatus.NOT_INVITED, 1)
    assert event.key() == b"c1"


def test_an_edit_bumps_the_version_and_names_what_changed() -> None:
    client = new_client()
    client.pull_events()
    same = client.data
    assert client.edit(same, VatCheck.VALID, NOW) == []
    assert client.events == []  # nothing changed: no new version, no event
    renamed = check_client(client_form(1, company={"name": "Other"}, bank_accounts=[]), RULES)
    changed = client.edit(renamed, VatCheck.VALID, NOW)
    assert changed == ["company.name", "bank_accounts"]
    [event] = client.pull_events()
    assert isinstance(event, ClientUpdated)
    assert (event.payload.changed, event.payload.client.version) == (changed, 2)


def test_status_moves_only_forward_through_invitation_events() -> None:
    client = new_client()
    assert client.mark_invited(NOW)
    assert not client.mark_invited(NOW)  # a resent invitation changes nothing
    assert client.mark_activated(ActivatedBy.CLIENT, NOW)
    assert not client.mark_invited(NOW)  # a late invitation does not step back
    assert client.status is ClientStatus.ACTIVE
    assert client.version == 3


def test_import_rows_always_get_the_same_client_id() -> None:
    assert imported_client_id("imp", 1, 7) == imported_client_id("imp", 1, 7)
    assert imported_client_id("imp", 1, 7) != imported_client_id("imp", 2, 7)


def test_changed_paths_detail_sections() -> None:
    before = check_client(client_form(1), RULES)
    after = check_client(client_form(1, user={"language": "fr"}), RULES)
    assert changed_paths(before, after) == ["user.language"]


def _row(n: int, name: str, group: str = "everyone") -> ClientSummary:
    return ClientSummary(
        client_id=f"id{n:03d}",
        company_name=name,
        vat_number=f"BE0{n:09d}",
        internal_reference=None,
        email=f"x{n}@y.be",
        first_name="A",
        last_name="B",
        status=ClientStatus.NOT_INVITED,
        group_id=group,
        subscription_mode=SubscriptionMode.FULL_FOLLOW_UP,
        vat_check=VatCheck.VALID,
        version=1,
        created_at=NOW + timedelta(seconds=n),
    )


@given(
    names=st.lists(st.sampled_from(["a", "B", "c", "a"]), min_size=0, max_size=30),
    limit=st.integers(1, 7),
    descending=st.booleans(),
)
def test_cursor_pages_cover_every_row_once_in_order(names, limit, descending) -> None:
    rows = [_row(n, name) for n, name in enumerate(names)]
    seen: list[str] = []
    cursor = None
    for _ in range(len(rows) + 2):
        query = ClientQuery(
            office_id="o1",
            limit=limit,
            descending=descending,
            after=Cursor.decode(cursor) if cursor else None,
        )
        page = page_of(rows, query)
        seen.extend(r.client_id for r in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(
        rows, key=lambda r: (r.company_name.casefold(), r.client_id), reverse=descending
    )
    assert seen == [r.client_id for r in expected]


def test_a_cursor_is_refused_for_another_sort_or_when_tampered_with() -> None:
    cursor = Cursor(SortKey.COMPANY_NAME, False, "a", "id1")
    with pytest.raises(InvalidCursor):
        ClientQuery(office_id="o1", sort=SortKey.EMAIL, after=cursor)
    with pytest.raises(InvalidCursor):
        Cursor.decode("not-a-cursor!!")


def test_staff_groups_and_filters_apply_in_memory() -> None:
    rows = [_row(1, "Gent", "g1"), _row(2, "Brugge", "g2"), _row(3, "All")]
    query = ClientQuery(office_id="o1", visible_groups=frozenset({"g1", "everyone"}))
    assert [r.company_name for r in page_of(rows, query).items] == ["All", "Gent"]
    search = ClientQuery(office_id="o1", text="000000002")
    assert [r.company_name for r in page_of(rows, search).items] == ["Brugge"]


def test_office_settings_always_allow_manual_and_need_days_for_a_delay() -> None:
    settings = OfficeSettings(enabled_transfer_methods=frozenset({TransferMethod.SFTP}))
    assert TransferMethod.MANUAL in settings.enabled_transfer_methods
    with pytest.raises(ValueError, match=r"timing\.delay_days"):
        OfficeSettings.model_validate({"default_timing": {"when": "delayed"}})


def test_recheck_backoff_grows_and_is_capped() -> None:
    policy = RecheckPolicy()
    delays = [policy.delay(attempt, jitter=1.0) for attempt in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(minutes=1)
    assert delays[-1] == timedelta(hours=6)
    assert policy.delay(1, jitter=0.0) == timedelta(seconds=30)


@given(
    names=st.lists(st.sampled_from(["a", "B", "c", "d"]), min_size=0, max_size=25),
    renames=st.lists(st.tuples(st.integers(0, 24), st.sampled_from(["a", "z", "C"])), max_size=8),
    limit=st.integers(1, 6),
    descending=st.booleans(),
    sort=st.sampled_from(list(SortKey)),
)
def test_the_sorted_index_pages_like_a_full_sort(names, renames, limit, descending, sort) -> None:
    from dataclasses import replace

    from portal_clients.adapters.client_list import _OfficeCopy

    rows = {f"id{n:03d}": _row(n, name) for n, name in enumerate(names)}
    copy = _OfficeCopy(seq=0)
    copy.build(list(rows.values()))
    for n, name in renames:  # edits arrive after the load and move rows in the indexes
        key = f"id{n:03d}"
        if key in rows:
            rows[key] = replace(rows[key], company_name=name, version=rows[key].version + 1)
            copy.apply(rows[key])
    cursor = None
    for _ in range(len(rows) + 2):
        query = ClientQuery(
            office_id="o1",
            limit=limit,
            descending=descending,
            sort=sort,
            after=Cursor.decode(cursor) if cursor else None,
        )
        expected, got = page_of(rows.values(), query), copy.page(query)
        assert [r.client_id for r in got.items] == [r.client_id for r in expected.items]
        assert got.next_cursor == expected.next_cursor
        cursor = got.next_cursor
        if cursor is None:
            break


def test_a_list_line_survives_its_stored_form_whole() -> None:
    from portal_clients.adapters.client_list import summary_from_json, summary_to_json

    row = _row(7, "Acme")
    assert summary_from_json(summary_to_json(row)) == row  # every field, none forgotten
