"""Normalisers of the shared value types: property tests with hypothesis."""

from __future__ import annotations

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
