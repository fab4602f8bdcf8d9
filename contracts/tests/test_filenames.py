"""Safe file names and the RFC 6266 Content-Disposition header, on hostile and Unicode names."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_contracts.filenames import MAX_FILENAME_BYTES, content_disposition, safe_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Facture – janvier.pdf", "Facture – janvier.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\an\\facture.pdf", "facture.pdf"),
        ("a\"; filename*=UTF-8''evil.exe; x=\".pdf", "a_; filename_=UTF-8''evil.exe; x=_.pdf"),
        ("scan\r\n\x00Set-Cookie: x.pdf", "scanSet-Cookie_ x.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # the bidi override that hides ".exe"
        ("  .hidden  ", "hidden"),
        ("CON.pdf", "_CON.pdf"),
        ("", "document"),
        (None, "document"),
        ("../..", "document"),
        ("e\u0301te\u0301.pdf", "été.pdf"),  # NFC
    ],
)
def test_names_are_made_safe(raw: str | None, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_an_extension_is_enforced_and_a_long_name_keeps_it() -> None:
    assert safe_filename("evil.exe", extension=".pdf") == "evil.exe.pdf"
    assert safe_filename("Scan.PDF", extension=".pdf") == "Scan.PDF"
    long = safe_filename("é" * 5000 + ".pdf", extension=".pdf")
    assert long.endswith("é.pdf")
    assert len(long.encode()) <= MAX_FILENAME_BYTES


@given(st.text())
def test_any_name_becomes_a_safe_name_and_stays_one(raw: str) -> None:
    name = safe_filename(raw)
    assert name
    assert len(name.encode()) <= MAX_FILENAME_BYTES
    assert not set(name) & set('/\\"<>:|?*')
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in name)
    assert not name.startswith((".", " "))
    assert safe_filename(name) == name


_HEADER = re.compile(
    r'^attachment; filename="(?P<fallback>[ !#-\[\]-~]+)"'
    r"(?:; filename\*=UTF-8''(?P<encoded>[A-Za-z0-9!#$&+\-.^_`|~%]+))?$"
)


@given(st.text())
def test_the_header_is_ascii_one_parameter_pair_and_gives_the_name_back(raw: str) -> None:
    header = content_disposition(raw)
    header.encode("ascii")  # Starlette sends headers as latin-1: never fails now
    found = _HEADER.match(header)
    assert found is not None, header  # nothing can end the quoted string or add a parameter
    encoded = found.group("encoded")
    name = unquote(encoded, errors="strict") if encoded else found.group("fallback")
    assert name == safe_filename(raw)


def test_the_header_of_a_unicode_name() -> None:
    assert content_disposition("Facture – janvier.pdf") == (
        'attachment; filename="Facture _ janvier.pdf"; '
        "filename*=UTF-8''Facture%20%E2%80%93%20janvier.pdf"
    )
    assert content_disposition("facture.pdf") == 'attachment; filename="facture.pdf"'
