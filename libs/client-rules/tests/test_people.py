"""Names and e-mail addresses (issue 16 points 7 and 8): what the clients service saves, the
invitation e-mail can carry, and look-alike addresses are one address or refused."""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

from portal_client_rules import (
    ClientRulesError,
    check_client,
    is_sendable_address,
    is_single_line,
    normalise_client_email,
    normalise_person_name,
    people,
)
from portal_contracts.values import InvalidValue, normalise_email

from .test_rules import OFFICE, valid_raw


def violations(raw: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    with pytest.raises(ClientRulesError) as caught:
        check_client(raw, OFFICE)
    return {v.field: (v.code, dict(v.params)) for v in caught.value.violations}


def with_user(**user: Any) -> dict[str, Any]:
    raw = valid_raw()
    raw["user"].update(user)
    return raw


def code_of(function: Any, value: str) -> str:
    with pytest.raises(InvalidValue) as caught:
        function(value)
    return caught.value.code


# --- Names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u200b", "\u202e", "\ufeff", "\u00ad"])
def test_a_name_with_a_line_separator_or_an_invisible_character_is_refused(separator: str) -> None:
    # U+2028 in first_name was saved (201), then every invitation failed mail.header_injection.
    found = violations(with_user(first_name=f"An{separator}Bcc: x@evil.example"))
    code, params = found["user.first_name"]
    assert code == "text.invisible_character"
    assert params["position"] == "3"
    assert params["character"].startswith(f"U+{ord(separator):04X}")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Jean-Pierre", "Jean-Pierre"),
        ("D'Hondt", "D'Hondt"),
        ("D’Hondt", "D’Hondt"),
        ("Van  den   Bossche", "Van den Bossche"),
        ("J.-M.", "J.-M."),
        ("Gal·la", "Gal·la"),
        ("Lambert 2", "Lambert 2"),  # the importer's own sample rows
        ("Ｍａｒｉｅ", "Marie"),  # full-width, NFKC
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # decomposed: the same name
        ("Łukasz", "Łukasz"),
        ("Дмитрий", "Дмитрий"),
        ("Nguyễn", "Nguyễn"),
        ("O\u00a0Brien", "O Brien"),  # no-break space from a web page
    ],
)
def test_names_hold_letters_marks_digits_spaces_apostrophes_hyphens_and_dots(
    typed: str, stored: str
) -> None:
    assert normalise_person_name(typed) == stored
    assert check_client(with_user(last_name=typed), OFFICE).user.last_name == stored


@pytest.mark.parametrize(
    ("typed", "code", "character"),
    [
        ("<b>Marie</b>", "name.character", "<"),
        ('"billing@bank.be" <', "name.character", '"'),
        ("Marie@home", "name.character", "@"),
        ("Dupont, Jean", "name.character", ","),
        ("Marie 😀", "name.character", "😀"),
        ("---", "name.no_letter", ""),
        ("…", "name.no_letter", ""),  # NFKC: "..."
    ],
)
def test_a_name_holds_nothing_else(typed: str, code: str, character: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_person_name(typed)
    assert caught.value.code == code
    assert caught.value.params.get("character", "") == character
    assert violations(with_user(first_name=typed))["user.first_name"][0] == code


@given(st.from_regex(people._PLAIN_NAME, fullmatch=True))
def test_the_plain_name_fast_path_agrees_with_the_full_rule(name: str) -> None:
    assert people._any_name(name) == name


# --- E-mail addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code", "params"),
    [
        ("résumé@example.be", "email.local_part_not_ascii", {"character": "é"}),
        ("jоhn@example.be", "email.confusable", {"character": "о", "looks_like": "o"}),
        ("info@exаmple.be", "email.confusable", {"character": "а", "looks_like": "a"}),
        (
            "info@xn--exmple-4nf.be",
            "email.confusable",
            {"looks_like": "a"},
        ),  # the same, typed as an A-label
        ("info@exampleπ.be", "email.mixed_scripts", {"label": "exampleπ"}),
        ("info@ex_ample.be", "email.syntax", {}),
        ("info@-bücher.de", "email.domain_invalid", {}),
    ],
)
def test_what_the_e_mail_would_refuse_and_look_alikes_are_refused(
    typed: str, code: str, params: dict[str, str]
) -> None:
    found = violations(with_user(email=typed))["user.email"]
    assert found[0] == code
    assert params.items() <= found[1].items()


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ｉｎｆｏ@example.be", "info@example.be"),  # full-width local part
        ("ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｂｅ", "info@example.be"),
        ("Info@Bücher.DE", "info@xn--bcher-kva.de"),  # IDN: the A-label is the key
        ("info@xn--bcher-kva.de", "info@xn--bcher-kva.de"),
        ("info@пример.рф", "info@xn--e1afmkfd.xn--p1ai"),  # one script per label: allowed
        ("info@日本語.jp", "info@xn--wgv71a119e.jp"),
    ],
)
def test_one_address_has_one_key_however_it_is_typed(typed: str, key: str) -> None:
    assert normalise_client_email(typed) == key
    assert normalise_email(typed) == key  # what the uniqueness index and the availability use
    assert check_client(with_user(email=typed), OFFICE).user.email == key


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
_CYRILLIC_TWINS = dict(zip("aeopcxy", "аеорсху", strict=True))
plain_addresses = st.from_regex(
    r"[a-z][a-z0-9]{0,8}(\.[a-z0-9]{1,5})?(\+[a-z0-9]{1,4})?@[a-z]{2,10}\.(be|com|eu)",
    fullmatch=True,
)


@given(plain_addresses, st.data())
def test_a_full_width_look_alike_is_the_same_address(address: str, data: st.DataObject) -> None:
    positions = data.draw(st.sets(st.integers(0, len(address) - 1), min_size=1))
    twin = "".join(
        _FULL_WIDTH.get(ch, ch) if i in positions else ch for i, ch in enumerate(address)
    )
    assert normalise_client_email(twin) == normalise_client_email(address) == address


@given(plain_addresses, st.data())
def test_a_cyrillic_look_alike_is_refused_never_a_second_address(
    address: str, data: st.DataObject
) -> None:
    swappable = [i for i, ch in enumerate(address) if ch in _CYRILLIC_TWINS]
    assume(swappable)
    chosen = data.draw(st.sets(st.sampled_from(swappable), min_size=1))
    twin = "".join(_CYRILLIC_TWINS[ch] if i in chosen else ch for i, ch in enumerate(address))
    local, _, domain = twin.rpartition("@")
    label = domain.split(".")[0]
    if local.isascii() and all(ch in _CYRILLIC_TWINS.values() for ch in label):
        return  # a label written wholly in Cyrillic is another, legitimate, domain
    with pytest.raises(InvalidValue) as caught:
        normalise_client_email(twin)
    assert caught.value.code in {"email.confusable", "email.mixed_scripts"}


# --- What the clients service saves, the invitation e-mail can carry ---------------------------

names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
) | st.sampled_from(["Marie", "Jean-Pierre", "D’Hondt", "An\u2028B", "<b>x</b>", "Ｍａｒｉｅ"])
addresses = (
    st.emails()
    | plain_addresses
    | st.sampled_from(
        ["résumé@example.be", "ｉｎｆｏ@example.be", "a@bücher.de", "a@exаmple.be", "a@пример.рф"]
    )
    | st.text(max_size=40)
)


def invitation_to(name: str, address: str) -> bytes:
    """Compose as invitations does (policy.default, Address in To:) and serialise."""
    message = EmailMessage(policy=policy.default)
    message["Subject"] = f"{name} vous invite"
    message["To"] = Address(display_name=name, addr_spec=address)
    message.set_content(f"Bonjour {name}")
    wire = message.as_bytes()
    assert not message["To"].defects
    return wire


@given(names, names, addresses)
@example("An\u2028B", "Peeters", "an@example.be")
@example("Marie", "Dubois", "résumé@example.be")
@example("Marie", "Dubois", "ｉｎｆｏ@example.be")
def test_every_client_the_rules_accept_can_be_invited(first: str, last: str, address: str) -> None:
    try:
        names_ok = (normalise_person_name(first), normalise_person_name(last))
        email = normalise_client_email(address)
    except InvalidValue:
        return
    # The header checks of invitations (portal_invitations.domain.headers) call these two.
    assert all(is_single_line(n) for n in names_ok)
    assert is_sendable_address(email)
    event("accepted")
    wire = invitation_to(" ".join(names_ok), email)
    headers = wire.split(b"\n\n", 1)[0]
    assert headers.isascii()  # no raw UTF-8 in To:, the A-label goes out
    assert f"<{email}>".encode() in headers.replace(b"\n ", b" ")
