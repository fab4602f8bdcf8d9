"""Issue 16 point 7 across services: the clients' rules (form and import) and the invitation's
header checks agree, so a client that was saved can be invited, and an import row the e-mail
would refuse is flagged in the import report instead of ending as a failed invitation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from portal_client_rules import OfficeRules, check_client
from portal_client_rules.checker import ClientRulesError
from portal_contracts.values import TransferMethod
from portal_importer.domain.validation import RowContext, check_row
from portal_importer.samples import client_row
from portal_invitations.domain.errors import HeaderInjection
from portal_invitations.domain.headers import refuse_line_breaks

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
