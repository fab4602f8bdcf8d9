"""Issue 16 point 7 across services: the clients' rules (form and import) and the invitation's
header checks agree, so a client that was saved can be invited, and an import row the e-mail
would refuse is flagged in the import report instead of ending as a failed invitation.

Issue 14 point 2: every service decides who sees which group's clients by the one rule of
contracts (``Caller.visible_groups`` / ``sees_group``: a staff member's groups and "Everyone")."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from portal_client_rules import OfficeRules, check_client
from portal_client_rules.checker import ClientRulesError
from portal_clients.service.deps import sees as clients_sees
from portal_contracts.identity import EVERYONE, Caller, Role
from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.service.office import visible_groups as delivery_visible_groups
from portal_importer.domain.validation import RowContext, check_row
from portal_importer.ports import OfficeSettings as ImporterSettings
from portal_importer.samples import client_row
from portal_importer.service.deps import Deps as ImporterDeps
from portal_importer.service.imports import office_settings as importer_office_settings
from portal_invitations.domain.errors import HeaderInjection
from portal_invitations.domain.headers import refuse_line_breaks
from portal_invitations.service.commands import Accountant as InvitationsAccountant
from portal_ubl.domain.document import ClientSettings as UblClient
from portal_ubl.domain.document import SubmitDocument

OFFICE = OfficeRules(frozenset({TransferMethod.EMAIL}), None, date(2026, 11, 29))


@pytest.mark.parametrize(
    ("cells", "key", "code"),
    [
        ({"user.first_name": "An\u2028B"}, "user.first_name", "text.invisible_character"),
        ({"user.last_name": "Dubois\u200b"}, "user.last_name", "text.invisible_character"),
        ({"user.email": "résumé@example.be"}, "user.email", "email.local_part_not_ascii"),
        ({"user.email": "jоhn@example.be"}, "user.email", "email.confusable"),
        ({"user.email": "info@exаmple.be"}, "user.email", "email.confusable"),
    ],
)
def test_an_import_row_the_e_mail_would_refuse_is_flagged(
    cells: dict[str, str], key: str, code: str
) -> None:
    checked = check_row(3, client_row(1) | cells, RowContext(OFFICE))
    assert [(p.key, p.code) for p in checked.problems] == [(key, code)]


def test_an_import_row_keeps_one_key_for_a_full_width_address() -> None:
    checked = check_row(
        3, client_row(1) | {"user.email": "ｃｌｉｅｎｔ１@bureau-example.be"}, RowContext(OFFICE)
    )
    assert checked.valid
    assert checked.email == "client1@bureau-example.be"  # the duplicate check sees the same key


names = st.text(min_size=1, max_size=20) | st.sampled_from(["Marie", "D’Hondt", "Zoë", "<b>x</b>"])
emails = st.emails() | st.sampled_from(
    ["a@bücher.de", "ｉｎｆｏ@example.be", "a@пример.рф", "résumé@example.be"]
)


@given(names, names, emails)
@example("An\u2028B", "Peeters", "an@example.be")  # saved (201), then invite: 422
@example("Marie", "Dubois", "résumé@example.be")  # saved, then NonASCIILocalPartDefect
@example("Marie", "Dubois", "info@bücher.de")  # saved, then raw UTF-8 in To:
def test_every_client_the_rules_accept_passes_the_invitation_s_header_checks(
    first: str, last: str, email: str
) -> None:
    raw = {
        "company": {
            "vat_number": "BE0403170701",
            "name": "Boulangerie",
            "vat_frequency": "monthly",
            "subscription_mode": "full_follow_up",
        },
        "user": {
            "first_name": first,
            "last_name": last,
            "email": email,
            "mobile_phone": "+32470123456",
            "language": "fr",
        },
    }
    try:
        user = check_client(raw, OFFICE).user
    except ClientRulesError:
        return
    refuse_line_breaks(
        **{
            "user.first_name": user.first_name,
            "user.last_name": user.last_name,
            "user.email": user.email,
        }
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user.first_name", "An\u2028B"),
        ("user.last_name", "Dubois\u202e"),
        ("user.email", "résumé@example.be"),  # saved before issue 16: NonASCIILocalPartDefect
        ("user.email", "info@bücher.de"),  # saved before issue 16 with its U-label: raw UTF-8
    ],
)
def test_the_invitation_refuses_what_its_e_mail_cannot_carry(field: str, value: str) -> None:
    with pytest.raises(HeaderInjection) as caught:
        refuse_line_breaks(**{field: value})
    assert caught.value.field == field


# --- Issue 14 point 2: one visibility rule (contracts' Caller.visible_groups / sees_group) -----

CALLERS = [
    Caller(office_id="o1", user_id="admin", role=Role.ADMIN),
    Caller(office_id="o1", user_id="s0", role=Role.STAFF),
    Caller(office_id="o1", user_id="s1", role=Role.STAFF, groups=("g-gent",)),
    Caller(office_id="o1", user_id="s2", role=Role.STAFF, groups=("g-gent", "g-liege")),
]
GROUPS = [EVERYONE, "g-gent", "g-liege", "g-brugge"]


class _WholeOffice:
    async def settings(self, caller: Caller, bearer_token: str) -> ImporterSettings:
        return ImporterSettings({g: g for g in GROUPS}, None)


async def _importer_offers(caller: Caller) -> set[str]:
    deps = ImporterDeps(
        imports=cast(Any, None),
        platform=cast(Any, None),
        directory=_WholeOffice(),
        read_workbook=cast(Any, None),
    )
    settings = await importer_office_settings(caller, "token", deps)
    return set(settings.groups or {})


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.user_id)
async def test_every_service_applies_the_one_visibility_rule(caller: Caller) -> None:
    expected = {g for g in GROUPS if caller.sees_group(g)}
    assert EVERYONE in expected  # every member of the office sees "Everyone"'s clients
    accountant = InvitationsAccountant.of(caller)
    ubl = SubmitDocument(
        office_id="o1",
        client_id="c1",
        kind=DocumentKind.SALES_INVOICE,
        visible_groups=caller.visible_groups(),
    )
    delivery = delivery_visible_groups(caller)
    decisions = {
        "clients": {g for g in GROUPS if clients_sees(caller, g)},
        "invitations": {g for g in GROUPS if accountant.groups is None or g in accountant.groups},
        "ubl": {g for g in GROUPS if ubl.may_submit_for(UblClient("o1", "c1", 1, group_id=g))},
        "delivery": {g for g in GROUPS if delivery is None or g in delivery},
        "importer": await _importer_offers(caller),
    }
    assert decisions == dict.fromkeys(decisions, expected)
