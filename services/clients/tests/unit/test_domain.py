"""The Client aggregate, list keys, windows and cursors, office settings, staff ids and the
re-check backoff."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_client_rules import OfficeRules, check_client
from portal_clients.adapters.client_list import _windows
from portal_clients.domain.listing import (
    SEP,
    ClientQuery,
    ClientSummary,
    Cursor,
    InvalidCursor,
    SortKey,
    search_terms,
)
from portal_clients.domain.model import (
    Client,
    changed_paths,
    imported_client_id,
    reference_key,
    with_current_states,
)
from portal_clients.domain.office import OfficeSettings, malformed_staff_ids
from portal_clients.domain.vat import RecheckPolicy
from portal_clients.testing.samples import client_form
from portal_contracts.clients import ClientCreated, ClientState, ClientUpdated, VatCheck
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


def test_each_write_announces_the_state_its_clients_are_left_in_after_their_events() -> None:
    first, second = new_client(1), new_client(2)
    renamed = check_client(client_form(1, company={"name": "Other"}), RULES)
    first.edit(renamed, VatCheck.VALID, NOW)
    events = [*first.pull_events(), *second.pull_events()]
    announced = with_current_states(events)
    assert announced[:3] == events
    states = announced[3:]
    assert all(isinstance(s, ClientState) for s in states)
    assert [(s.key(), s.payload.client.version) for s in states] == [(b"c1", 2), (b"c2", 1)]
    assert states[0].payload.client == first.snapshot()
    assert states[0].causation_id == events[1].event_id  # the edit it follows
    assert with_current_states([]) == []


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


def test_import_rows_always_get_the_same_client_id() -> None:
    assert imported_client_id("imp", 1, 7) == imported_client_id("imp", 1, 7)
    assert imported_client_id("imp", 1, 7) != imported_client_id("imp", 2, 7)


def test_changed_paths_detail_sections() -> None:
    before = check_client(client_form(1), RULES)
    after = check_client(client_form(1, user={"language": "fr"}), RULES)
    assert changed_paths(before, after) == ["user.language"]


def _row(n: int, name: str, reference: str | None = None) -> ClientSummary:
    return ClientSummary(
        client_id=f"id{n:03d}",
        office_id="o1",
        company_name=name,
        vat_number="BE0403170701",
        internal_reference=reference,
        email=f"boss{n}@gamma.be",
        first_name="A",
        last_name="B",
        status=ClientStatus.NOT_INVITED,
        group_id="everyone",
        subscription_mode=SubscriptionMode.FULL_FOLLOW_UP,
        vat_check=VatCheck.VALID,
        version=1,
        created_at=NOW + timedelta(seconds=n),
    )


def test_sort_keys_are_unique_per_office_and_order_like_the_folded_value() -> None:
    rows = [_row(1, "Émile"), _row(2, "emile"), _row(3, "Zed"), _row(4, "abc")]
    keys = [r.sort_value(SortKey.COMPANY_NAME) for r in rows]
    assert all(k.startswith("o1" + SEP) for k in keys)
    assert len(set(keys)) == 4
    assert [
        r.company_name for r in sorted(rows, key=lambda r: r.sort_value(SortKey.COMPANY_NAME))
    ] == ["abc", "Émile", "emile", "Zed"]
    later = [r.sort_value(SortKey.CREATED_AT) for r in rows]
    assert later == sorted(later)  # fixed-width UTC times sort as times


def test_a_search_finds_words_by_their_beginning_in_any_spelling() -> None:
    row = _row(5, "Bakkerij Peeters-Janssens", reference="K-100")
    words = {w.removeprefix("o1" + SEP) for w in row.search_words()}

    def found(text: str) -> bool:
        return all(any(w.startswith(t) for w in words) for t in search_terms(text))

    for text in (
        "bakk",
        "PEET",
        "janssens",
        "peeters-jan",
        "k-1",
        "k100",
        "boss5@gamma.be",
        "0403.170.701",
        "BE 0403 170 701",
        "403170701",
        "be0403",
        "peet bakk",
    ):
        assert found(text), text
    for text in ("akkerij", "gamma", "0404", "peet zzz"):
        assert not found(text), text
    assert search_terms("   ") == []


def test_references_compare_regardless_of_case_accents_and_spaces() -> None:
    assert reference_key(" K-100 ") == reference_key("k-100")
    assert reference_key("Café  A") == reference_key("cafe a")
    assert reference_key("") is None
    assert reference_key(None) is None


@given(
    fences=st.lists(st.integers(0, 99), unique=True).map(sorted),
    after=st.one_of(st.none(), st.integers(0, 99)),
    descending=st.booleans(),
)
def test_windows_cover_the_office_after_the_cursor_once_each(fences, after, descending) -> None:
    key = lambda n: f"o1{SEP}{n:02d}{SEP}x"  # noqa: E731
    cursor = Cursor(SortKey.COMPANY_NAME, descending, key(after)) if after is not None else None
    query = ClientQuery(office_id="o1", descending=descending, after=cursor)
    keys = [key(n) for n in range(100)]
    covered: list[str] = []
    widths = []
    for window in _windows([key(f) for f in fences], query):
        inside = [
            k
            for k in keys
            if all(
                {"$gt": k > v, "$gte": k >= v, "$lt": k < v, "$lte": k <= v}[op]
                for op, v in window.items()
            )
        ]
        widths.append(len(inside))
        covered += inside
    expected = [
        k for k in keys if after is None or (k < key(after) if descending else k > key(after))
    ]
    assert sorted(covered) == expected  # every key once, none twice
    assert len(widths) <= len(fences) + 1


def test_a_cursor_is_refused_for_another_sort_office_or_when_tampered_with() -> None:
    cursor = Cursor(SortKey.COMPANY_NAME, False, f"o1{SEP}a{SEP}id1")
    with pytest.raises(InvalidCursor):
        ClientQuery(office_id="o1", sort=SortKey.EMAIL, after=cursor)
    with pytest.raises(InvalidCursor):
        ClientQuery(office_id="o2", after=cursor)  # another office's keys
    with pytest.raises(InvalidCursor):
        Cursor.decode("not-a-cursor!!")
    with pytest.raises(InvalidCursor):  # was a RecursionError: a 500
        Cursor.decode(base64.urlsafe_b64encode(b"[" * 5_000).decode())
    assert ClientQuery(office_id="o1", after=Cursor.decode(cursor.encode())).after == cursor


def test_staff_ids_are_refused_by_shape() -> None:
    ids = ["staff-1", "", "../x", "a\r\nb", "x" * 10_000, "jane.doe@office.be", "id\n"]
    assert malformed_staff_ids(ids) == [1, 2, 3, 4, 6]


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
