"""Issue 16 point 12: a client's mistake is answered with its own problem+json code and message
(fr/nl/en), never "Internal error; try again later". Table: every service's app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal_servicekit.problems import message
from tests.hardening.apps import SERVICES, bearer
from tests.hardening.wire import Apps, MiB, send

# One JSON route of each service that has one (the mistakes are caught before any handler).
JSON_ROUTES = {
    "clients": ("POST", "/v1/clients"),
    "importer": ("PATCH", "/v1/imports/1/rows/1"),
    "invitations": ("POST", "/v1/invitations/accept"),
}
MULTIPART_ROUTES = {
    "importer": ("POST", "/v1/imports", {}),
    "ubl": ("POST", "/v1/documents", {"kind": "sales_invoice", "client_id": "c1"}),
}


def _nested(depth: int) -> bytes:
    return b'{"cells": ' + b"[" * depth + b"]" * depth + b"}"


JSON_MISTAKES: list[tuple[str, bytes, str, dict[str, Any]]] = [
    ("invalid-utf8", b'{"cells": {"name": "caf\xe9"}}', "json.not_utf8", {}),
    ("truncated", b'{"cells": {"name": ', "json.invalid", {"position": 19}),
    ("not-json", b"cells=1", "json.invalid", {"position": 0}),
    ("5000-deep", _nested(5_000), "json.too_deep", {"max_depth": 32}),  # past Python's recursion
    ("40-deep", _nested(40), "json.too_deep", {"max_depth": 32}),
    (
        "5000-digits",
        b'{"cells": ' + b"7" * 5000 + b"}",
        "json.number_too_long",
        {"max_digits": 4300},
    ),
]
CODES = {
    "json.not_utf8",
    "json.invalid",
    "json.too_deep",
    "json.number_too_long",
    "body.too_large",
    "form.field_too_large",
    "multipart.header_too_long",
    "multipart.invalid",
    "method.not_allowed",
    "request.invalid",
}


@pytest.mark.parametrize("service", sorted(JSON_ROUTES))
@pytest.mark.parametrize(
    ("body", "code", "params"),
    [pytest.param(b, c, p, id=name) for name, b, c, p in JSON_MISTAKES],
)
async def test_a_bad_json_body_has_its_own_code(
    apps: Apps, service: str, body: bytes, code: str, params: dict[str, Any]
) -> None:
    app = await apps.get(service)
    method, path = JSON_ROUTES[service]
    headers = {**bearer(), "content-type": "application/json", "accept-language": "en"}
    sent = await send(app, method, path, content=body, headers=headers)
    assert (sent.status, sent.code, sent.read) == (400, code, len(body)), sent.response.text[:300]
    assert sent.problem["title"] == message(code, "en", **params)


async def test_a_json_body_within_the_depth_bound_is_read(apps: Apps) -> None:
    app = await apps.get("clients")
    sent = await send(
        app,
        "POST",
        "/v1/clients",
        content=_nested(20),
        headers={**bearer(), "content-type": "application/json"},
    )
    assert (sent.status, sent.code) == (422, "validation")  # the form's validation, not the edge


@pytest.mark.parametrize("service", sorted(MULTIPART_ROUTES))
async def test_a_5000_character_file_name_has_its_own_code(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    method, path, fields = MULTIPART_ROUTES[service]
    name = "x" * 5000 + ".pdf"
    sent = await send(
        app, method, path, headers=bearer(), data=fields, files={"file": (name, b"%PDF-1.4")}
    )
    assert (sent.status, sent.code) == (400, "multipart.header_too_long"), sent.response.text


@pytest.mark.parametrize("service", sorted(MULTIPART_ROUTES))
async def test_a_broken_multipart_body_has_its_own_code(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    method, path, _ = MULTIPART_ROUTES[service]
    sent = await send(
        app,
        method,
        path,
        content=b"--zz\r\nContent-Disposition: form-data\r\n\r\n",
        headers={**bearer(), "content-type": "multipart/form-data; boundary=zz"},
    )
    assert (sent.status, sent.code) == (400, "multipart.invalid"), sent.response.text


async def test_ubl_intake_data_between_1_mb_and_its_bound_reaches_the_handler(apps: Apps) -> None:
    app = await apps.get("ubl")
    data = json.dumps({"number": "F-1", "notes": ["n" * (2 * MiB)]})
    sent = await send(
        app,
        "POST",
        "/v1/documents",
        headers=bearer(),
        data={"kind": "sales_invoice", "client_id": "c1", "data": data},
    )
    assert (sent.status, sent.code) == (422, "document.rejected"), sent.response.text[:300]


async def test_ubl_intake_data_over_its_bound_has_its_own_code(apps: Apps) -> None:
    app = await apps.get("ubl")
    sent = await send(
        app,
        "POST",
        "/v1/documents",
        headers=bearer(),
        data={"kind": "sales_invoice", "client_id": "c1", "data": "x" * (12 * MiB)},
    )
    assert (sent.status, sent.code) == (413, "form.field_too_large"), sent.response.text[:300]
    assert "MB" in sent.problem["title"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PUT"])
async def test_a_wrong_method_is_405_with_allow(apps: Apps, service: str, method: str) -> None:
    app = await apps.get(service)
    for headers in ({}, bearer()):  # a public path: with or without a token
        sent = await send(app, method, "/healthz", headers={**headers, "accept-language": "nl"})
        assert (sent.status, sent.code) == (405, "method.not_allowed"), sent.response.text
        assert sent.response.headers["allow"] == "GET"
        assert sent.problem["title"] == message("method.not_allowed", "nl", allowed="GET")


async def test_a_wrong_method_on_a_protected_path_with_a_token(apps: Apps) -> None:
    app = await apps.get("clients")
    sent = await send(app, "DELETE", "/v1/clients", headers=bearer())
    assert (sent.status, sent.code) == (405, "method.not_allowed")
    assert set(sent.response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_every_edge_code_speaks_three_languages() -> None:
    params: dict[str, Any] = {
        "size": "1 KB",
        "size_fr": "1 Ko",
        "allowed": "GET",
        "max_depth": 32,
        "max_digits": 4300,
        "position": 3,
    }
    for code in CODES:
        texts = {lang: message(code, lang, **params) for lang in ("fr", "nl", "en")}
        assert code not in texts.values(), code
        assert len(set(texts.values())) == 3, texts
        assert all("Internal" not in t and "interne" not in t for t in texts.values())
