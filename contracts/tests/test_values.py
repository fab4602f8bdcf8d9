"""Normalisers of the shared value types: property tests with hypothesis."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_contracts.values import (
    InvalidValue,
    normalise_email,
    normalise_folder,
    normalise_iban,
    normalise_mobile_phone,
    normalise_vat_number,
)


def be_vat(base: int) -> str:
    """A valid Belgian enterprise number: 8 digits then 97 - (n mod 97)."""
    return f"{base:08d}{97 - base % 97:02d}"


be_bases = st.integers(min_value=2_000_000, max_value=19_999_999)


@given(be_bases, st.sampled_from(["BE{}", "BE {}", "{}", "be{}", "BTW {}", "TVA BE{}"]))
def test_belgian_vat_numbers_normalise_whatever_the_writing(base: int, pattern: str) -> None:
    digits = be_vat(base)
    dotted = f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"
    assert normalise_vat_number(pattern.format(dotted)) == f"BE{digits}"


@given(be_bases, st.integers(min_value=1, max_value=96))
def test_a_wrong_check_digit_is_refused(base: int, delta: int) -> None:
    digits = be_vat(base)
    wrong = digits[:8] + f"{(int(digits[8:]) + delta - 1) % 97 + 1:02d}"
    if wrong == digits:
        return
    with pytest.raises(InvalidValue) as caught:
        normalise_vat_number("BE" + wrong)
    assert caught.value.code == "vat.checksum"


def test_belgian_vat_must_start_with_0_or_1() -> None:
    with pytest.raises(InvalidValue):
        normalise_vat_number("BE2403170701")


@given(
    st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z0-9]{1,5})?(\+[a-z0-9]{1,6})?", fullmatch=True),
    st.sampled_from(["gmail.com", "Acme.BE", "outlook.com"]),
)
def test_emails_are_trimmed_and_lowercased_but_keep_tags_and_dots(local: str, domain: str) -> None:
    normalised = normalise_email(f"  {local.upper()}@{domain} ")
    assert normalised == f"{local}@{domain.lower()}"
    assert normalise_email(normalised) == normalised  # idempotent


@pytest.mark.parametrize("bad", ["", "plain", "a@", "@b.be", "a b@c.be", "a@b.be\r\nBcc: x@y.be"])
def test_bad_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_email(bad)


@given(
    st.integers(min_value=0, max_value=9_999_999),
    st.sampled_from(["0{}", "+32 {}", "0032{}", "32{}"]),
    st.sampled_from(["470", "471", "485", "496"]),
)
def test_belgian_mobiles_normalise_to_e164(rest: int, pattern: str, prefix: str) -> None:
    subscriber = f"{prefix[1:]}{rest:07d}"[:8]
    local = f"4{subscriber}"  # 9 digits after the trunk 0
    text = pattern.format(local)
    assert normalise_mobile_phone(text) == f"+32{local}"


def test_landline_is_not_a_mobile() -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_mobile_phone("+32 2 512 34 56")
    assert caught.value.code == "phone.not_mobile"


def iban_for(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


@given(st.integers(min_value=0, max_value=999_999_999_999))
def test_belgian_ibans_roundtrip_with_spaces(number: int) -> None:
    iban = iban_for("BE", f"{number:012d}")
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    assert normalise_iban(spaced) == iban


@given(st.integers(min_value=0, max_value=999_999_999_999), st.integers(min_value=1, max_value=9))
def test_a_changed_digit_breaks_the_iban(number: int, delta: int) -> None:
    iban = iban_for("BE", f"{number:012d}")
    last = (int(iban[-1]) + delta) % 10
    with pytest.raises(InvalidValue):
        normalise_iban(iban[:-1] + str(last))


def test_iban_length_is_checked_per_country() -> None:
    with pytest.raises(InvalidValue):
        normalise_iban("BE6853900754703")


@given(st.lists(st.from_regex(r"[A-Za-z0-9_ -]{1,12}", fullmatch=True), min_size=1, max_size=4))
def test_safe_folders_stay_relative(parts: list[str]) -> None:
    clean = [p.strip() for p in parts if p.strip() not in ("", ".", "..")]
    if not clean:
        return
    folder = normalise_folder("/".join(clean))
    assert not folder.startswith("/")
    assert ".." not in folder.split("/")


# --- The fast paths agree with the libraries they shortcut -------------------------------------

from portal_contracts import values  # noqa: E402


def _outcome(function, *args):  # type: ignore[no-untyped-def]
    try:
        return function(*args)
    except InvalidValue as exc:
        return f"error:{exc.code}"


@given(
    st.from_regex(r"[a-zA-Z0-9._%+\-]{1,20}@[a-zA-Z0-9.\-]{1,20}\.[a-zA-Z]{1,5}", fullmatch=True)
)
def test_the_email_fast_path_agrees_with_email_validator(address: str) -> None:
    fast = _outcome(values.normalise_email, address)
    library = _outcome(values._library_email, address)
    assert fast == library or (fast.startswith("error") and library.startswith("error"))


@pytest.mark.parametrize(
    "address",
    [
        "a@localhost.localhost",
        "a@x.test",
        "a@b.local",
        "a@xn--bcher-kva.de",
        "a..b@acme.be",
        ".a@acme.be",
        "a@-acme.be",
        "a@acme-.be",
        "a@acme.b",
    ],
)
def test_the_email_fast_path_defers_edge_cases(address: str) -> None:
    fast = _outcome(values.normalise_email, address)
    library = _outcome(values._library_email, address)
    assert fast == library or (fast.startswith("error") and library.startswith("error"))


@given(st.from_regex(r"(\+32|0032|32|0|\+31|00)?[ ./]?[0-9][0-9 ./]{6,12}", fullmatch=True))
def test_the_mobile_fast_path_agrees_with_phonenumbers(text: str) -> None:
    if not text.strip():
        return
    assert _outcome(values.normalise_mobile_phone, text) == _outcome(
        values._library_phone, text.strip(), "BE"
    )


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_the_belgian_iban_fast_path_agrees_with_stdnum(number: int) -> None:
    iban = f"BE{number:014d}"
    fast = _outcome(values.normalise_iban, iban)
    library = _outcome(values._library_iban, iban)
    assert fast == library or (fast.startswith("error") and library.startswith("error"))


@given(st.integers(min_value=0, max_value=1_999_999_999))
def test_the_belgian_vat_fast_path_agrees_with_stdnum(number: int) -> None:
    compact = f"BE{number:010d}"
    fast = _outcome(values.normalise_vat_number, compact)
    library = _outcome(values._library_vat, compact)
    assert fast == library or (fast.startswith("error") and library.startswith("error"))


# --- Issue 16: one canonical address, folders read as the channels read them -----------------

from portal_contracts.values import (  # noqa: E402
    MAX_FOLDER_LENGTH,
    MAX_FOLDER_NAME_LENGTH,
    display_email,
    is_sendable_address,
    is_single_line,
    normalise_folder_name,
)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ｉｎｆｏ@example.be", "info@example.be"),
        ("INFO＠EXAMPLE.BE", "info@example.be"),
        ("info@bücher.de", "info@xn--bcher-kva.de"),
        ("info@BÜCHER.de", "info@xn--bcher-kva.de"),
        ("info@xn--bcher-kva.de", "info@xn--bcher-kva.de"),
    ],
)
def test_an_address_has_one_ascii_key_with_the_a_label(typed: str, key: str) -> None:
    assert normalise_email(typed) == key


def test_screens_show_the_u_label_back() -> None:
    assert display_email("info@xn--bcher-kva.de") == "info@bücher.de"
    assert display_email("info@example.be") == "info@example.be"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("résumé@example.be", "email.local_part_not_ascii"),
        ("a@-bücher.de", "email.domain_invalid"),
        ("a\u2028b@b.be", "text.invisible_character"),
        ("a@b.be\r\nBcc: x@y.be", "text.control_character"),
    ],
)
def test_what_no_e_mail_can_carry_is_refused(typed: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_email(typed)
    assert caught.value.code == code


@given(st.emails() | st.text(max_size=40))
def test_a_normalised_address_is_canonical_and_sendable(text: str) -> None:
    try:
        address = normalise_email(text)
    except InvalidValue:
        return
    assert address.isascii()
    assert is_sendable_address(address)
    assert normalise_email(address) == address  # idempotent: the uniqueness key is stable


@pytest.mark.parametrize(
    ("folder", "code"),
    [
        ("%2e%2e/%2e%2e/etc", "folder.traversal"),
        ("%252e%252e/etc", "folder.traversal"),  # encoded twice
        ("．．/etc", "folder.traversal"),  # full-width dots
        ("‥/etc", "folder.traversal"),  # TWO DOT LEADER
        ("..\u200b/etc", "folder.invisible_character"),
        ("clients\u2028acme", "folder.invisible_character"),
        ("a\x85b", "folder.control_character"),
        ("a" * 5000, "folder.too_long"),
        ("/".join(["abcdefghij"] * 14), "folder.too_long"),
        ("a" * (MAX_FOLDER_NAME_LENGTH + 1), "folder.name_too_long"),
        ("clients/CON", "folder.reserved_name"),
        ("nul.txt", "folder.reserved_name"),
        ("Com1", "folder.reserved_name"),
        ("acme./x", "folder.trailing_dot"),
        ("clients/...", "folder.trailing_dot"),
        ("ab:c", "folder.character"),
        ("what?", "folder.character"),
        ("a%20b", "folder.percent_encoded"),
        ("／etc", "folder.absolute"),  # full-width solidus
        ("～/x", "folder.absolute"),  # full-width tilde
    ],
)
def test_unsafe_folders_are_refused(folder: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_folder(folder)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Clients / Acme", "Clients/Acme"),
        ("clients\\acme\\", "clients/acme"),
        ("ｃｌｉｅｎｔｓ/acme", "clients/acme"),  # full-width letters
        ("100% bio", "100% bio"),
        ("./a//b", "a/b"),
        ("Société Générale/2026", "Société Générale/2026"),
    ],
)
def test_safe_folders_are_normalised(typed: str, stored: str) -> None:
    assert normalise_folder(typed) == stored


_TRICKY = [*list("./\\%2eE .．‥\u200b\u2028\xadCONulx:?~"), "%2e", "%2f", "%5c", "..", "%25"]


@given(
    st.lists(st.sampled_from(_TRICKY), max_size=12).map("".join)
    | st.text(max_size=60)
    | st.text(st.characters(codec="utf-8"), max_size=200)
)
def test_an_accepted_folder_is_safe_on_every_channel(typed: str) -> None:
    try:
        folder = normalise_folder(typed)
    except InvalidValue:
        return
    parts = folder.split("/")
    assert 0 < len(folder) <= MAX_FOLDER_LENGTH
    assert is_single_line(folder)
    assert unicodedata.normalize("NFKC", folder) == folder
    assert "%" not in folder or not re.search(r"%[0-9A-Fa-f]{2}", folder)
    assert not folder.startswith(("/", "~"))
    assert not re.match(r"^[A-Za-z]:", folder)
    for part in parts:
        assert part not in ("", ".", "..")
        assert part == part.strip()
        assert not part.endswith(".")
        assert not set(part) & set('<>:"|?*\\')
        assert normalise_folder_name(part) == part
    assert normalise_folder(folder) == folder  # idempotent: delivery may check again
