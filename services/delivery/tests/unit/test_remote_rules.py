"""Rules of the remote channels without I/O: QuickXorHash (OneDrive's file hash), Clearfacts'
administration and single file, OneDrive's credentials and consent URL, Retry-After."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_contracts.clients import ApiTarget, Integration
from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.adapters.channels.quickxor import quickxor
from portal_delivery.adapters.channels.throttling import retry_after
from portal_delivery.domain.connections import ConnectionInvalid, Kind, admin_consent_url, build
from portal_delivery.domain.delivery import FileRef
from portal_delivery.domain.model import ClientRoute, OfficeDefaults
from portal_delivery.domain.planning import ReadyDocument, enterprise_number, plan

# rclone's vectors (backend/onedrive/quickxorhash/quickxorhash_test.go): base64 in, hash out.
VECTORS = [
    ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
    ("tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="),
    ("0pZP", "0rDEEwAAAAAAAAAAAwAAAAAAAAA="),
    ("jRRDVA==", "jaDAEKgAAAAAAAAABAAAAAAAAAA="),
    ("eAV52qE=", "eChAHrQRCgAAAAAABQAAAAAAAAA="),
    ("luBZlaT6", "lgBHFipBCn0AAAAABgAAAAAAAAA="),
    ("qaApEj66lw==", "qQBFCiTgA11cAgAABwAAAAAAAAA="),
    ("/aNzzCFPS/A=", "/RjFHJgRgicsAR4ACAAAAAAAAAA="),
]


@pytest.mark.parametrize(("given_b64", "expected"), VECTORS)
def test_quickxorhash_matches_the_published_vectors(given_b64: str, expected: str) -> None:
    assert quickxor(base64.b64decode(given_b64)) == expected


def _one_byte_at_a_time(data: bytes) -> str:
    register = 0
    for i, byte in enumerate(data):
        shift = (i * 11) % 160
        register ^= ((byte << shift) | (byte >> (160 - shift))) & ((1 << 160) - 1)
    digest = bytearray(register.to_bytes(20, "little"))
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        digest[12 + i] ^= b
    return base64.b64encode(bytes(digest)).decode()


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=2000))
def test_the_folded_hash_is_the_byte_by_byte_one(data: bytes) -> None:
    assert quickxor(data) == _one_byte_at_a_time(data)


@pytest.mark.parametrize(
    ("vat", "number"),
    [
        ("BE0403170701", "0403170701"),
        ("BE 0403.170.701", "0403170701"),
        ("403170701", "0403170701"),
        ("NL123456789B01", ""),
    ],
)
def test_clearfacts_names_an_administration_by_its_enterprise_number(vat: str, number: str) -> None:
    assert enterprise_number(vat) == number


def _ubl(name: str) -> FileRef:
    return FileRef("ubl", "b1", "0" * 64, 10, name, "application/xml")


def test_clearfacts_gets_one_file_into_the_administration_and_type() -> None:
    pdf = FileRef("pdf", "b2", "1" * 64, 20, "x.pdf", "application/pdf")
    document = ReadyDocument(
        "d1",
        "o1",
        "c1",
        DocumentKind.PURCHASE_INVOICE,
        datetime.now(UTC),
        False,
        _ubl("x.xml"),
        pdf,
        True,
        "00000000-0000-0000-0000-000000000001",
    )
    route = ClientRoute("o1", "c1", 1, Integration(target=ApiTarget()), vat_number="BE0403170701")
    [delivery] = plan(document, route, OfficeDefaults("o1"), datetime.now(UTC))
    assert (delivery.channel, delivery.destination) == (TransferMethod.API, "clearfacts")
    assert delivery.folder == "0403170701/purchase"
    assert [f.role for f in delivery.files] == ["ubl"]  # one inbox document: the UBL


TENANT, CLIENT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"


def test_onedrive_takes_a_secret_or_a_certificate_and_shows_the_consent_url() -> None:
    settings_ = {"tenant_id": TENANT, "client_id": CLIENT, "drive_id": "b!abc"}
    with pytest.raises(ConnectionInvalid) as missing:
        build("o1", "M365", Kind.ONEDRIVE, settings_, {})
    assert missing.value.problems[0].code == "connection.onedrive_credentials_required"
    with pytest.raises(ConnectionInvalid) as bad:
        build("o1", "M365", Kind.ONEDRIVE, settings_, {"certificate": "not a pem"})
    assert bad.value.problems[0].code == "connection.certificate_invalid"
    connection = build("o1", "M365", Kind.ONEDRIVE, settings_, {"client_secret": "s3cret"})
    assert admin_consent_url(connection, "https://login.microsoftonline.com") == (
        f"https://login.microsoftonline.com/{TENANT}/adminconsent?client_id={CLIENT}"
    )


def test_retry_after_is_seconds_or_a_date() -> None:
    assert retry_after({"retry-after": "41"}) == timedelta(seconds=41)
    later = datetime.now(UTC) + timedelta(seconds=120)
    wait = retry_after({"retry-after": later.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert wait is not None
    assert timedelta(seconds=100) < wait <= timedelta(seconds=120)
    assert retry_after({}) is None
    assert retry_after({"retry-after": "soon"}) is None
