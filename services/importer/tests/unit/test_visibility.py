"""The platform's one visibility rule in the importer (contracts' Caller.sees_group): a staff
member's rows may use "Everyone" and their own groups, never a group they lack, and the
template offers only those, whatever list the clients service answered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from portal_contracts.identity import Caller, Role
from portal_contracts.values import TransferMethod
from portal_importer.domain.commands import OfferGroups
from portal_importer.domain.validation import check_row
from portal_importer.ports import OfficeSettings
from portal_importer.samples import client_row
from portal_importer.service.deps import Deps
from portal_importer.service.imports import context_for, offer_choices

GROUPS = {"everyone": "Everyone", "g-gent": "Gent", "g-liege": "Liège"}
STAFF = Caller(office_id="o1", user_id="u1", role=Role.STAFF, groups=("g-gent",))
ADMIN = Caller(office_id="o1", user_id="u2", role=Role.ADMIN)


class WholeOffice:
    """A directory answering every group of the office (an older clients service, a cache)."""

    async def settings(self, caller: Caller, bearer_token: str) -> OfficeSettings:
        return OfficeSettings(dict(GROUPS), frozenset(TransferMethod))


def deps() -> Deps:
    return Deps(
        imports=cast(Any, None),
        platform=cast(Any, None),
        directory=WholeOffice(),
        read_workbook=cast(Any, None),
        now=lambda: datetime(2026, 12, 3, tzinfo=UTC),
    )


async def test_staff_rows_may_use_everyone_and_their_groups_but_not_another() -> None:
    context = await context_for(STAFF, "token", deps())
    cells = dict(client_row(1).items())
    assert check_row(3, cells | {"group_id": "Everyone"}, context).valid
    assert check_row(3, cells | {"group_id": "Gent"}, context).valid
    other = check_row(3, cells | {"group_id": "Liège"}, context)
    assert [p.key for p in other.problems] == ["group_id"]
    admin = await context_for(ADMIN, "token", deps())
    assert check_row(3, cells | {"group_id": "Liège"}, admin).valid


async def test_the_template_offers_a_staff_member_only_the_groups_they_see() -> None:
    assert (await offer_choices(OfferGroups(STAFF, "token"), deps()))[0] == ["Everyone", "Gent"]
    assert (await offer_choices(OfferGroups(ADMIN, "token"), deps()))[0] == sorted(GROUPS.values())


class WithConnections(WholeOffice):
    async def settings(self, caller: Caller, bearer_token: str) -> OfficeSettings:
        known = {"Kantoor": TransferMethod.SFTP, "Agent": TransferMethod.AGENT}
        return OfficeSettings(dict(GROUPS), frozenset(TransferMethod), known)


async def test_rows_name_one_of_the_office_s_connections_and_the_template_lists_them() -> None:
    office = deps()
    office.directory = WithConnections()
    context = await context_for(ADMIN, "token", office)
    cells = dict(client_row(1).items())
    sftp = {
        "integration.target.kind": "sftp",
        "integration.target.folder": "peeters",
        "integration.accounting_software": "adsolut",
    }
    assert check_row(3, cells | sftp | {"integration.target.connection": "kantoor"}, context).valid
    wrong = check_row(3, cells | sftp | {"integration.target.connection": "Oud"}, context)
    assert [p.key for p in wrong.problems] == ["integration.target.connection"]
    assert (await offer_choices(OfferGroups(ADMIN, "token"), office))[1] == ["Agent", "Kantoor"]
