"""The availability check against the clients service's API (a local fake speaking it): asked
in pages the clients service accepts, and read in its old and new vocabularies."""

from __future__ import annotations

import pytest

from portal_importer.adapters.clients_http import ClientsServiceHttp, availability_of
from portal_importer.domain.validation import Availability, Holder
from portal_importer.ports import PlatformUnavailable
from services.importer.tests.fakes import MAX_VALUES, FakeClientsService

pytestmark = pytest.mark.integration


async def test_a_big_import_is_asked_in_pages_the_clients_service_accepts(
    clients_service: FakeClientsService,
) -> None:
    """Issue 16 point 5: 100,000 rows sent every e-mail and VAT number in one call, which the
    clients service refuses above 20,000 values (422): such an import could never be confirmed."""
    emails = [f"client{n}@bureau-example.be" for n in range(100_000)]
    vats = [f"BE{n:010d}" for n in range(100_000)]
    clients_service.statuses |= {emails[7]: "unavailable", vats[99_999]: "taken_in_office"}
    clients_service.hold_s = 0.3  # long enough for the pages in flight to overlap, however busy
    found = await ClientsServiceHttp(clients_service.url).check(emails, vats, bearer_token="t")
    assert found == Availability({emails[7]: Holder.ELSEWHERE}, {vats[99_999]: Holder.OFFICE})
    calls = clients_service.availability_calls
    assert len(calls) == 10
    assert all(len(c["emails"]) + len(c["vat_numbers"]) <= MAX_VALUES for c in calls)
    assert sorted(e for c in calls for e in c["emails"]) == sorted(emails)
    assert 1 < clients_service.most_in_flight <= 3


async def test_one_page_unanswered_and_the_check_is_not_made(
    clients_service: FakeClientsService,
) -> None:
    adapter = ClientsServiceHttp(clients_service.url, page_values=MAX_VALUES + 1)
    with pytest.raises(PlatformUnavailable):  # a page over the cap: 422
        await adapter.check([f"c{n}@example.be" for n in range(MAX_VALUES + 1)], [])
    clients_service.down = True
    with pytest.raises(PlatformUnavailable):
        await ClientsServiceHttp(clients_service.url).check(["a@example.be"], [])


def test_the_old_and_the_new_vocabulary() -> None:
    answer = availability_of(
        {
            "emails": {
                "free@x.be": "available",
                "new@x.be": "unavailable",
                "old@x.be": "taken",
                "ours@x.be": "taken_in_office",
                "odd@x.be": "invalid",
                "later@x.be": "a status not known yet",
            },
            "vat_numbers": {"BE1": "on_platform", "BE2": "taken_in_office", "BE3": "available"},
        }
    )
    elsewhere = Holder.ELSEWHERE
    assert answer.emails == {
        "new@x.be": elsewhere,
        "old@x.be": elsewhere,
        "ours@x.be": Holder.OFFICE,
        "odd@x.be": elsewhere,
        "later@x.be": elsewhere,
    }
    assert answer.vat_numbers == {"BE1": elsewhere, "BE2": Holder.OFFICE}
