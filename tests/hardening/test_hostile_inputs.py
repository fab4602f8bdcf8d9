"""Issue 13 part 5: every public endpoint of every service × the hostile inputs that concern it,
in one table. Each row must be answered with a clear 4xx problem+json (its code, the field it is
about), within 2 s and 64 MB, and change nothing: the service's MongoDB collections (counts and
a hash of every document) and the Kafka topics of the run are the same before and after.

The endpoints are those of the committed OpenAPI documents (``docs/api/openapi``) and of the
running apps; one without a row in :data:`TABLE` fails :func:`test_every_endpoint_has_rows`, so
a new endpoint comes with its hostile inputs. The edge's own mistakes (bad JSON, bodies over
their bound while streaming, 405) have their tables in test_client_mistakes and test_body_limits;
the rows here reuse their helpers.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from openpyxl import load_workbook
from pymongo import AsyncMongoClient

from portal_clients.testing.samples import client_form
from portal_importer.adapters.xlsx_template import FORMULA_TRIGGERS
from portal_importer.samples import client_row, fill_template
from portal_invitations.domain.model import ClientAccess, ClientProfile
from tests.hardening.apps import SERVICES, bearer
from tests.hardening.hostile import Row, Watch, check, staff_token, tokens
from tests.hardening.hostile_inputs import (
    CRLF_EMAIL,
    FORMULA,
    LF_EMAIL,
    TRAVERSALS,
    XML_ENTITIES,
    declared,
    declared_body,
    huge_json,
    not_a_workbook,
    pdf,
    workbook_with_formula,
    zip_bomb,
)
from tests.hardening.wire import Apps, MiB, routes, send

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}  # FastAPI's own pages
OTHER = bearer("office-x")  # another office: its answer must be the one of a missing id
JSON = {"content-type": "application/json"}
LINK_INVALID = "invitation.link_invalid"
# Failed accepts are counted (a TTL'd record per link and address) to slow down guessing.
THROTTLE = frozenset({"accept_attempts"})
Table = dict[tuple[str, str, str], list[Row]]


def probe() -> list[Row]:
    """A probe is public and takes nothing: a body or a query is not read, nothing changes."""
    return [
        Row("junk-query-and-body", 200, None, headers={}, query="x=%00%0d%0a", body={"json": {}})
    ]


def too_big(bound: int = 2 * MiB) -> list[Row]:
    return [
        Row(
            "huge-chunked-body",
            413,
            "body.too_large",
            body={"made": huge_json(bound)},
            headers={**bearer(), **JSON},
        ),
        Row(
            "huge-declared-body",
            413,
            "body.too_large",
            body={"made": declared_body(bound)},
            headers={**bearer(), **declared(bound)},
        ),
    ]


def json_shape(field: str, wrong: dict[str, Any], named: str | None = None) -> list[Row]:
    """A list for the object, ``wrong`` (its last field of the wrong type, or ``named``), and
    ``field`` left out."""
    return [
        Row("array-not-object", 422, "validation", body={"json": [1, 2]}, field="body"),
        Row("wrong-type", 422, "validation", body={"json": wrong}, field=named or [*wrong][-1]),
        Row("missing-field", 422, "validation", body={"json": {}}, field=field),
    ]


def tenancy(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Row:
    """The seeded id of office-h, asked by office-x: 404 as for a missing id, nothing told."""
    return Row(
        "other-office", 404, "not_found", headers={**OTHER, **(headers or {})}, body=body or {}
    )


def unseen_group(
    body: dict[str, Any] | None = None,
    status: int = 404,
    code: str = "not_found",
    headers: dict[str, str] | None = None,
) -> Row:
    """A staff member of office-h, in no group, touching the seeded group (or its client)."""
    return Row(
        "staff-unseen-group",
        status,
        code,
        headers={**staff_token(), **(headers or {})},
        body=body or {},
    )


# A cursor is base64 of JSON: 5,000 lists deep (6.7 KB: any server takes such a URL).
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 5_000).decode()
HOSTILE_IF_MATCH: dict[str, str | bytes] = {
    "if-match-5000-digits": "9" * 5000,
    "if-match-over-64-bits": '"99999999999999999999999"',
    "if-match-superscript": "²".encode("latin-1"),  # a digit to str.isdigit, not to int()
}


def if_match(body: dict[str, Any] | None = None) -> list[Row]:
    """A version no one stored: 412, never a 500 from int() or BSON."""
    return [
        Row(kind, 412, "precondition.failed", headers={**bearer(), "if-match": v}, body=body or {})
        for kind, v in HOSTILE_IF_MATCH.items()
    ]


def traversal_id(param: str = "client_id") -> Row:
    """An id that is a path (one segment: ``%2F`` would route elsewhere): 404, nothing read."""
    return Row("traversal-id", 404, "not_found", params={param: "..%5C..%5Cetc%5Cpasswd"})


def clients() -> Table:
    form = {"json": client_form(9100, user={"email": CRLF_EMAIL})}
    star = {"if-match": "*"}
    return {
        ("clients", "GET", "/healthz"): probe(),
        ("clients", "GET", "/readyz"): probe(),
        ("clients", "GET", "/metrics"): probe(),
        ("clients", "GET", "/v1/clients"): [
            *tokens(),
            Row("wrong-type-limit", 422, "validation", query="limit=abc", field="limit"),
            Row("negative-limit", 422, "validation", query="limit=-1", field="limit"),
            Row("bad-order", 422, "validation", query="order=drop", field="order"),
            Row("search-too-long", 422, "validation", query="q=" + "a" * 101, field="q"),
            Row("deep-cursor", 422, None, query=f"cursor={DEEP_CURSOR}"),
            Row("garbage-cursor", 422, None, query="cursor=%00%ff..%2F"),
        ],
        ("clients", "POST", "/v1/clients"): [
            *tokens(),
            *too_big(),
            Row("array-not-object", 422, "validation", body={"json": [1]}, field="body"),
            Row("crlf-in-email", 422, "validation", body=form, field="user.email"),
            Row(
                "lf-in-email",
                422,
                "validation",
                body={"json": client_form(9101, user={"email": LF_EMAIL})},
                field="user.email",
            ),
            Row(
                "crlf-in-name",
                422,
                "validation",
                body={"json": client_form(9102, company={"name": "Acme\r\nBcc: x@y.z"})},
                field="company.name",
            ),
            Row(
                "traversal-target-folder",
                422,
                "validation",
                body={"json": client_form(9107, integration=TO_SFTP_UP)},
                field="integration.target.folder",
            ),
            Row(
                "wrong-type-bank-accounts",
                422,
                "validation",
                body={"json": client_form(9103, bank_accounts="BE68")},
                field="bank_accounts",
            ),
            Row(
                "another-offices-group",
                422,
                "validation",
                headers=OTHER,
                body={"made": lambda s: {"json": client_form(9106, group_id=s["group_id"])}},
                field="group_id",
            ),
        ],
        ("clients", "POST", "/v1/clients/availability"): [
            *tokens(),
            Row(
                "wrong-type", 422, "validation", body={"json": {"emails": "a@b.c"}}, field="emails"
            ),
            Row("unknown-field", 422, "validation", body={"json": {"sql": 1}}, field="sql"),
            Row(
                "too-many",
                422,
                "validation",
                body={"json": {"emails": ["a@b.c"] * 20_001}},
                field="emails",
            ),
        ],
        ("clients", "GET", "/v1/clients/{client_id}"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            Row("traversal-id", 404, "not_found", params={"client_id": "..%2F..%2Fgroups"}),
        ],
        ("clients", "PUT", "/v1/clients/{client_id}"): [
            *tokens(),
            *too_big(),
            tenancy({"json": client_form(9104)}, star),
            *if_match({"json": client_form(9108)}),
            unseen_group({"json": client_form(9105)}, headers=star),
            Row(
                "crlf-in-email",
                422,
                "validation",
                headers={**bearer(), **star},
                body=form,
                field="user.email",
            ),
        ],
        **{
            ("clients", "POST", f"/v1/clients/{{client_id}}/{step}"): [
                *tokens(),
                tenancy(headers=star),
                unseen_group(headers=star),
                *if_match(),
                Row("missing-if-match", 428, "precondition.required"),
                Row(
                    "traversal-id",
                    404,
                    "not_found",
                    params={"client_id": "..%2F..%2Fgroups"},
                    headers={**bearer(), **star},
                ),
            ]
            for step in ("archive", "restore")
        },
        ("clients", "GET", "/v1/groups"): tokens(),
        ("clients", "POST", "/v1/groups"): [
            *tokens(),
            *too_big(),
            *json_shape("name", {"name": 12}),
        ],
        ("clients", "DELETE", "/v1/groups/{group_id}"): [
            *tokens(),
            tenancy(),
            unseen_group(status=403, code="forbidden"),
            Row(
                "move-to-another-offices", 404, "not_found", headers=OTHER, query="move_to=everyone"
            ),
        ],
        ("clients", "PATCH", "/v1/groups/{group_id}"): [
            *tokens(),
            *too_big(),
            *json_shape("name", {"name": ["x"]}),
            tenancy({"json": {"name": "Stolen"}}, star),
            *if_match({"json": {"name": "Renamed"}}),
            unseen_group({"json": {"name": "Stolen"}}, 403, "forbidden", star),
        ],
        ("clients", "PUT", "/v1/groups/{group_id}/staff"): [
            *tokens(),
            *too_big(),
            Row(
                "wrong-type", 422, "validation", body={"json": {"user_ids": "u"}}, field="user_ids"
            ),
            tenancy({"json": {"user_ids": ["u-x"]}}, star),
            *if_match({"json": {"user_ids": ["u-x"]}}),
            unseen_group({"json": {"user_ids": ["u-staff"]}}, 403, "forbidden", star),
        ],
        ("clients", "GET", "/v1/settings"): tokens(),
        ("clients", "PUT", "/v1/settings"): [
            *tokens(),
            *too_big(),
            Row(
                "array-not-object",
                422,
                "validation",
                headers={**bearer(), **star},
                body={"json": [1]},
                field="body",
            ),
            Row("staff", 403, "forbidden", headers={**staff_token(), **star}, body={"json": {}}),
            *if_match({"json": {}}),
        ],
        ("clients", "GET", "/v1/office/profile"): tokens(),
        ("clients", "PUT", "/v1/office/profile"): [
            *tokens(),
            *too_big(),
            *json_shape("name", {"languages": ["fr"], "name": 7}),
            Row(
                "crlf-in-name",
                422,
                "validation",
                headers={**bearer(), **star},
                body={"json": {"name": "Acme\r\nBcc: x@y.z", "languages": ["fr"]}},
                field="name",
            ),
            Row(
                "lf-in-sender-name",
                422,
                "validation",
                headers={**bearer(), **star},
                body={"json": {"name": "Acme", "languages": ["fr"], "sender_name": "A\nB"}},
                field="sender_name",
            ),
            Row(
                "no-language",
                422,
                "validation",
                headers={**bearer(), **star},
                body={"json": {"name": "Acme", "languages": []}},
                field="languages",
            ),
            Row(
                "staff",
                403,
                "forbidden",
                headers={**staff_token(), **star},
                body={"json": {"name": "Mine", "languages": ["nl"]}},
            ),
            *if_match({"json": {"name": "Acme", "languages": ["fr"]}}),
        ],
        ("clients", "GET", "/v1/staff/{user_id}/groups"): [
            *tokens(),
            Row("staff-asks-for-another", 403, "forbidden", headers=staff_token()),
        ],
    }


def importer() -> Table:
    def upload(name: str, data: bytes) -> dict[str, Any]:
        return {"files": {"file": (name, data)}}

    uploads = [
        *tokens(),
        Row(
            "zip-bomb",
            422,
            "file.zip_bomb",
            body={"made": lambda _: upload("b.xlsx", zip_bomb(lying=False))},
        ),
        Row(
            "zip-bomb-lying-sizes",
            422,
            None,
            body={"made": lambda _: upload("b.xlsx", zip_bomb(lying=True))},
        ),
        Row(
            "not-a-workbook",
            422,
            "file.not_xlsx",
            body={"made": lambda _: upload("x.xlsx", not_a_workbook())},
        ),
        Row("pdf-as-workbook", 422, None, body={"made": lambda _: upload("x.xlsx", pdf())}),
        Row("no-file", 422, "validation", body={"data": {"x": "1"}}, field="file"),
        Row(
            "traversal-file-name",
            422,
            None,
            body={"made": lambda _: upload("../../etc/passwd", not_a_workbook())},
        ),
        Row(
            "huge-declared-body",
            413,
            "body.too_large",
            body={"made": declared_body(64 * MiB)},
            headers={
                **bearer(),
                **declared(64 * MiB),
                "content-type": "multipart/form-data; boundary=b",
            },
        ),
    ]
    return {
        ("importer", "GET", "/healthz"): probe(),
        ("importer", "GET", "/readyz"): probe(),
        ("importer", "GET", "/metrics"): probe(),
        ("importer", "GET", "/v1/imports"): [
            *tokens(),
            Row("wrong-type-limit", 422, "validation", query="limit=ten", field="limit"),
            Row("limit-too-big", 422, "validation", query="limit=100000", field="limit"),
        ],
        ("importer", "POST", "/v1/imports"): uploads,  # formulas: a draft, flagged (below)
        ("importer", "GET", "/v1/imports/template"): tokens(),
        ("importer", "GET", "/v1/imports/{import_id}"): [*tokens(), tenancy()],
        ("importer", "POST", "/v1/imports/{import_id}/confirm"): [*tokens(), tenancy()],
        ("importer", "GET", "/v1/imports/{import_id}/report.xlsx"): [*tokens(), tenancy()],
        ("importer", "DELETE", "/v1/imports/{import_id}/rows/{row}"): [
            *tokens(),
            tenancy(),
            Row("wrong-type-row", 422, "validation", params={"row": "two"}, field="row"),
        ],
        ("importer", "PATCH", "/v1/imports/{import_id}/rows/{row}"): [
            *tokens(),
            *too_big(),
            tenancy({"json": {"cells": {"company_name": "x"}}}),
            Row("wrong-type", 422, "validation", body={"json": {"cells": ["x"]}}, field="cells"),
            Row("missing-field", 422, "validation", body={"json": {}}, field="cells"),
            Row(
                "wrong-type-row",
                422,
                "validation",
                params={"row": "1e9"},
                body={"json": {"cells": {}}},
                field="row",
            ),
        ],
        ("importer", "POST", "/v1/imports/{import_id}/validate"): [*tokens(), tenancy()],
        ("importer", "POST", "/v1/imports/{import_id}/versions"): [
            *uploads,
            tenancy(upload("v.xlsx", not_a_workbook())),
        ],
    }


def invitations() -> Table:
    accept = {"token": "t" * 40, "password": "Correct horse 1!", "mobile_phone": "0470123456"}
    return {
        ("invitations", "GET", "/healthz"): probe(),
        ("invitations", "GET", "/readyz"): probe(),
        ("invitations", "GET", "/metrics"): probe(),
        ("invitations", "POST", "/v1/invitations/clients/{client_id}/activation"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            traversal_id(),
        ],
        ("invitations", "DELETE", "/v1/invitations/clients/{client_id}"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            traversal_id(),
        ],
        ("invitations", "GET", "/v1/invitations/clients/{client_id}"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            traversal_id(),
        ],
        ("invitations", "POST", "/v1/invitations/clients/{client_id}"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            traversal_id(),
        ],
        ("invitations", "POST", "/v1/invitations/clients/{client_id}/resend"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            traversal_id(),
        ],
        ("invitations", "POST", "/v1/invitations/accept"): [
            *json_shape("token", {"token": 12, "password": "x", "mobile_phone": "1"}, "token"),
            Row(
                "unknown-token",
                400,
                LINK_INVALID,
                headers={},
                body={"json": accept},
                allowed=THROTTLE,
            ),
            Row(
                "forged-token",
                400,
                LINK_INVALID,
                allowed=THROTTLE,
                headers={},
                body={"json": {**accept, "token": "a.b.c" * 8}},
            ),
            Row(
                "unknown-field",
                422,
                "validation",
                headers={},
                body={"json": {**accept, "role": "admin"}},
                field="role",
            ),
            Row(
                "crlf-in-phone",
                400,
                LINK_INVALID,  # the link is checked first: no phone is read for a dead link
                allowed=THROTTLE,
                headers={},
                body={"json": {**accept, "mobile_phone": "0470\r\nBcc: x"}},
            ),
            *[r for r in too_big() if r.kind == "huge-chunked-body"],
        ],
        ("invitations", "GET", "/v1/invitations/link"): [
            Row("missing-token", 422, "validation", headers={}, field="token"),
            Row(
                "unknown-token",
                200,  # what a link opens is its state ("invalid"): the page says so
                None,
                headers={},
                query="token=" + "t" * 40,
                allowed=THROTTLE,
            ),
        ],
        ("invitations", "GET", "/v1/invitations/password-policy"): [
            Row("junk-query", 200, None, headers={}, query="lang=..%2F..%2Fetc%00"),
        ],
    }


def ubl() -> Table:
    form = {"kind": "sales_invoice", "client_id": "c1"}

    def xml(name: str, data: bytes) -> dict[str, Any]:
        return {"data": form, "files": {"xml": (name, data, "application/xml")}}

    entities = [
        Row(kind, 422, "document.rejected", body=xml("i.xml", data), field="xml")
        for kind, data in XML_ENTITIES.items()
    ]
    return {
        ("ubl", "GET", "/healthz"): probe(),
        ("ubl", "GET", "/readyz"): probe(),
        ("ubl", "GET", "/metrics"): probe(),
        ("ubl", "POST", "/v1/documents"): [
            *tokens(),
            *entities,
            Row(
                "traversal-xml-name",
                422,
                "document.rejected",
                body=xml("../../../etc/passwd", XML_ENTITIES["xxe-file"]),
            ),
            Row(
                "wrong-type-kind",
                422,
                "validation",
                body={"data": {**form, "kind": "wire_transfer"}},
                field="kind",
            ),
            Row(
                "missing-client",
                422,
                "validation",
                body={"data": {"kind": "sales_invoice"}},
                field="client_id",
            ),
            Row(
                "traversal-client-id",
                422,
                "validation",
                body={"data": {**form, "client_id": "../c1"}},
                field="client_id",
            ),
            Row(
                "deep-data",
                422,
                "document.rejected",
                body={"data": {**form, "data": "[" * 5_000 + "]" * 5_000}},
            ),
            Row(
                "traversal-profile",
                422,
                "profile.unknown",
                body={"data": {**form, "profile": "../../os"}, "files": {"pdf": ("a.pdf", pdf())}},
                field="profile",
            ),
            Row(
                "another-offices-client",
                422,
                "client.unknown",
                headers=OTHER,
                body={"data": form, "files": {"pdf": ("a.pdf", pdf(), "application/pdf")}},
            ),
            Row(
                "data-not-json", 422, "document.rejected", body={"data": {**form, "data": "{'a':"}}
            ),
            Row(
                "data-wrong-type",
                422,
                "document.rejected",
                body={"data": {**form, "data": json.dumps({"lines": "many"})}},
            ),
            Row(
                "pdf-not-a-pdf",
                422,
                "document.rejected",
                body={"data": form, "files": {"pdf": ("a.pdf", b"MZ\x90\x00", "application/pdf")}},
            ),
            Row(
                "huge-declared-body",
                413,
                "body.too_large",
                body={"made": declared_body(64 * MiB)},
                headers={
                    **bearer(),
                    **declared(64 * MiB),
                    "content-type": "multipart/form-data; boundary=b",
                },
            ),
        ],
        ("ubl", "GET", "/v1/documents/{document_id}"): [*tokens(), tenancy(), unseen_group()],
        ("ubl", "GET", "/v1/documents/{document_id}/{part}"): [
            *tokens(),
            tenancy(),
            unseen_group(),
            *[
                Row(f"traversal-part-{i}", 404, "not_found", params={"part": t.replace("/", "%2F")})
                for i, t in enumerate(TRAVERSALS)
            ],
        ],
    }


SFTP_MISTAKES = [
    ("crlf-in-host", "host", "sftp.example.be\r\nx"),
    ("url-as-host", "host", "sftp://u:p@evil.example/"),
    ("option-in-username", "username", "-oProxyCommand=touch /tmp/x"),
    ("port-out-of-range", "port", "99999"),
]
ONEDRIVE = {"tenant_id": "../../common", "client_id": str(uuid.UUID(int=1)), "drive_id": "b!x"}
TO_SFTP_UP = {"target": {"kind": "sftp", "connection": "h-sftp", "folder": "../../etc"}}


def _sftp_with(key: str, value: str) -> dict[str, Any]:
    settings = {"host": "sftp.example.be", "username": "u", key: value}
    body = {"name": "h-sftp", "kind": "sftp", "settings": settings, "secrets": {"password": "p"}}
    return {"json": body}


def delivery() -> Table:
    def sftp(folder: str) -> dict[str, Any]:
        settings = {"host": "sftp.example.be", "username": "u", "base_folder": folder}
        return {
            "json": {
                "name": "h-sftp",
                "kind": "sftp",
                "settings": settings,
                "secrets": {"password": "p"},
            }
        }

    traversal = [
        Row(f"traversal-base-folder-{i}", 422, None, body=sftp(t), field="settings.base_folder")
        for i, t in enumerate(TRAVERSALS)
    ]
    agent = {"authorization": "Bearer pda_forged0000000000000000"}
    ack = {"lease_token": "l" * 16, "files": []}
    agent_rows = [*tokens(), Row("forged-agent-key", 401, "auth.invalid", headers=agent)]
    return {
        ("delivery", "GET", "/healthz"): probe(),
        ("delivery", "GET", "/readyz"): probe(),
        ("delivery", "GET", "/metrics"): probe(),
        ("delivery", "POST", "/agent/v1/acks"): [
            *agent_rows,
            Row(
                "wrong-type",
                422,
                "validation",
                headers="agent",
                body={"json": {"items": "all"}},
                field="items",
            ),
            Row(
                "other-office-item",
                200,
                None,
                headers="agent",
                body={"json": {"items": [{"item_id": "missing-1", **ack}]}},
            ),
        ],
        ("delivery", "GET", "/agent/v1/feed"): [
            *agent_rows,
            Row(
                "wrong-type-limit",
                422,
                "validation",
                headers="agent",
                query="limit=x",
                field="limit",
            ),
            Row(
                "wait-too-long", 422, "validation", headers="agent", query="wait=3600", field="wait"
            ),
            Row("garbage-cursor", 422, "cursor.invalid", headers="agent", query="cursor=%00%ff"),
        ],
        ("delivery", "POST", "/agent/v1/items/{item_id}/ack"): [
            *agent_rows,
            Row(
                "missing-field",
                422,
                "validation",
                headers="agent",
                body={"json": {}},
                field="lease_token",
            ),
            Row(
                "bad-hash",
                422,
                "validation",
                headers="agent",
                body={"json": {**ack, "files": [{"name": "a", "sha256": "zz"}]}},
                field="files.0.sha256",
            ),
            Row("other-office-item", 404, "not_found", headers="agent", body={"json": ack}),
        ],
        ("delivery", "GET", "/agent/v1/items/{item_id}/files/{name}"): [
            *agent_rows,
            Row("other-office-item", 404, "not_found", headers="agent"),
            Row(
                "traversal-name",
                404,
                "not_found",
                headers="agent",
                params={"name": "..%5C..%5Cetc%5Cpasswd"},  # "%2F" would be a "/": another path
            ),
        ],
        ("delivery", "POST", "/agent/v1/items/{item_id}/nack"): [
            *agent_rows,
            Row(
                "wrong-type",
                422,
                "validation",
                headers="agent",
                body={"json": {"lease_token": 1, "reason": "x"}},
                field="lease_token",
            ),
            Row(
                "other-office-item",
                404,
                "not_found",
                headers="agent",
                body={"json": {"lease_token": "l" * 16, "reason": "x"}},
            ),
        ],
        ("delivery", "GET", "/v1/connections"): tokens(),
        ("delivery", "POST", "/v1/connections"): [
            *tokens(),
            *too_big(),
            *json_shape("name", {"name": "h", "kind": "sftp", "settings": ["x"]}, "settings"),
            *traversal,
            *[
                Row(kind, 422, None, body=_sftp_with(key, value), field=f"settings.{key}")
                for kind, key, value in SFTP_MISTAKES
            ],
            Row(
                "traversal-onedrive-tenant",
                422,
                "connection.invalid",
                body={"json": {"name": "h-od", "kind": "onedrive", "settings": ONEDRIVE}},
                field="settings.tenant_id",
            ),
            Row(
                "wrong-kind",
                422,
                "validation",
                body={"json": {"name": "x", "kind": "ftp"}},
                field="kind",
            ),
            Row(
                "staff",
                403,
                "connection.admin_only",
                headers=staff_token(),
                body={"json": {"name": "x", "kind": "clearfacts", "secrets": {"token": "t"}}},
            ),
        ],
        ("delivery", "GET", "/v1/connections/-/email-identity"): tokens(),
        ("delivery", "PUT", "/v1/connections/-/email-identity"): [
            *tokens(),
            *too_big(),
            *json_shape("sender", {"sender": 42}),
            Row("crlf-in-sender", 422, None, body={"json": {"sender": CRLF_EMAIL}}, field="sender"),
            Row("lf-in-sender", 422, None, body={"json": {"sender": LF_EMAIL}}, field="sender"),
            Row(
                "crlf-in-display-name",
                422,
                None,
                body={"json": {"sender": "kantoor@example.be", "display_name": "K\r\nBcc: x@y.z"}},
                field="display_name",
            ),
        ],
        ("delivery", "DELETE", "/v1/connections/{name}"): [
            *tokens(),
            tenancy(headers={"if-match": "*"}),
            *if_match(),
        ],
        ("delivery", "PUT", "/v1/connections/{name}"): [
            *tokens(),
            *too_big(),
            tenancy({"json": {"name": "x", "kind": "agent"}}, {"if-match": "*"}),
            *if_match({"json": {"name": "h-agent", "kind": "agent"}}),
            *[
                Row(
                    r.kind,
                    r.status,
                    r.code,
                    headers={**bearer(), "if-match": "*"},
                    body={"json": {**r.body["json"], "name": "h-agent", "kind": "agent"}},
                    field=r.field,
                )
                for r in traversal[:3]
            ],
        ],
        ("delivery", "GET", "/v1/connections/{name}/agent-keys"): [*tokens(), tenancy()],
        ("delivery", "POST", "/v1/connections/{name}/agent-keys"): [*tokens(), tenancy()],
        ("delivery", "DELETE", "/v1/connections/{name}/agent-keys/{key_id}"): [
            *tokens(),
            tenancy(),
        ],
        ("delivery", "POST", "/v1/connections/{name}/host-key"): [
            *tokens(),
            *too_big(),
            *json_shape("host_key", {"host_key": 1}),
            tenancy({"json": {"host_key": "ssh-ed25519 " + "A" * 68}}, {"if-match": "*"}),
            *if_match({"json": {"host_key": "ssh-ed25519 " + "A" * 68}}),
        ],
        ("delivery", "POST", "/v1/connections/{name}/test"): [*tokens(), tenancy()],
        ("delivery", "GET", "/v1/deliveries"): [
            *tokens(),
            Row("wrong-type-limit", 422, "validation", query="limit=x", field="limit"),
            Row("bad-state", 422, "validation", query="state=everything", field="state.0"),
            Row("garbage-cursor", 422, "cursor.invalid", query="cursor=%00%ff"),
            Row(
                "long-client-id",
                422,
                "validation",
                query="client_id=" + "x" * 500,
                field="client_id",
            ),
        ],
        ("delivery", "GET", "/v1/deliveries/{delivery_id}"): [*tokens(), tenancy()],
        ("delivery", "POST", "/v1/deliveries/{delivery_id}/retry"): [*tokens(), tenancy()],
    }


TABLE: Table = {**clients(), **importer(), **invitations(), **ubl(), **delivery()}


def _documented(service: str) -> set[tuple[str, str]]:
    spec = json.loads((ROOT / "docs/api/openapi" / f"{service}.json").read_text())
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_endpoint_has_rows(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    served = {(m, p) for m, p in routes(app) if p not in FRAMEWORK}
    endpoints = served | _documented(service)
    covered = {(m, p) for s, m, p in TABLE if s == service}
    assert not endpoints - covered, f"endpoints without hostile rows: {sorted(endpoints - covered)}"
    assert not covered - endpoints, (
        f"rows for endpoints that are gone: {sorted(covered - endpoints)}"
    )
    assert all(TABLE[(service, m, p)] for m, p in endpoints)


@pytest.fixture(scope="session")
async def watch(apps: Apps, kafka_bootstrap: str, mongodb_uri: str) -> AsyncIterator[Watch]:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_uri)
    kafka = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await kafka.start()
    try:
        databases = {s: apps.env[f"{s.upper()}_DATABASE"] for s in SERVICES}
        yield Watch(mongo, kafka, databases, apps.env["PORTAL_TOPIC_PREFIX"])
    finally:
        await kafka.stop()
        await mongo.close()


@pytest.fixture(scope="session")
async def seeds(apps: Apps) -> dict[str, dict[str, str]]:
    """One thing of each kind in office-h, for the rows that ask for it from elsewhere."""
    clients_app = await apps.get("clients")
    group = await send(
        clients_app,
        "POST",
        "/v1/groups",
        json={"name": f"H {uuid.uuid4().hex[:6]}"},
        headers=bearer(),
    )
    group_id = group.response.json()["group_id"]
    made = await send(
        clients_app,
        "POST",
        "/v1/clients",
        json=client_form(9001, group_id=group_id),
        headers=bearer(),
    )
    assert made.status == 201, made.response.text
    client_id = made.response.json()["client_id"]
    ubl_app = await apps.get("ubl")
    document = await send(
        ubl_app,
        "POST",
        "/v1/documents",
        headers=bearer(),
        data={"kind": "sales_invoice", "client_id": "c1"},
        files={"pdf": ("invoice.pdf", pdf(), "application/pdf")},
    )
    assert document.status == 201, document.response.text
    delivery_app = await apps.get("delivery")
    connection = await send(
        delivery_app,
        "POST",
        "/v1/connections",
        json={"name": "h-agent", "kind": "agent"},
        headers=bearer(),
    )
    assert connection.status == 201, connection.response.text
    key = connection.response.json()["agent_key"]
    importer_app = await apps.get("importer")
    workbook = {"file": ("clients.xlsx", fill_template([client_row(9002)]))}
    upload = await send(importer_app, "POST", "/v1/imports", headers=bearer(), files=workbook)
    assert upload.status == 201, upload.response.text
    # Office-x has been here before: its first request makes its own "Everyone" group.
    await send(clients_app, "GET", "/v1/groups", headers=OTHER)
    invitations_app = await apps.get("invitations")
    access = ClientAccess(
        profile=ClientProfile(
            client_id,
            "office-h",
            group_id,
            "marie@example.be",
            "Marie",
            "Dubois",
            "fr",
            "full_follow_up",
            "not_invited",
            "+32470123456",
            1,
        )
    )  # as the worker keeps it from ClientCreated (no worker runs here)
    await invitations_app.state.service.deps.access.save(access)
    return {
        "clients": {"client_id": client_id, "group_id": group_id, "user_id": "u-h"},
        "importer": {"import_id": upload.response.json()["id"], "row": "3"},
        "invitations": {"client_id": client_id},
        "ubl": {"document_id": document.response.json()["document_id"], "part": "pdf"},
        "delivery": {"name": "h-agent", "key_id": key["key_id"], "agent": key["token"]},
    }


@pytest.mark.parametrize(
    ("service", "method", "template"), sorted(TABLE), ids=[" ".join(k) for k in sorted(TABLE)]
)
async def test_hostile_inputs_are_refused_and_change_nothing(
    apps: Apps,
    watch: Watch,
    seeds: dict[str, dict[str, str]],
    service: str,
    method: str,
    template: str,
) -> None:
    app = await apps.get(service)
    wrong = []
    for row in TABLE[(service, method, template)]:
        wrong += await check(app, service, method, template, row, seeds[service], watch)
    assert not wrong, "\n".join(wrong)


async def test_a_formula_in_a_workbook_is_flagged_and_never_written_back_as_one(
    apps: Apps,
) -> None:
    """An upload is a draft: a DDE formula without a value is a problem of its row (nothing
    reaches the clients service before confirm), and the text "=CMD|…" typed as a value comes
    back in the error report (when a message quotes it) as text, never as a formula Excel
    would run."""
    app = await apps.get("importer")
    formula = await send(
        app,
        "POST",
        "/v1/imports",
        headers=bearer(),
        files={"file": ("f.xlsx", workbook_with_formula())},
    )
    assert formula.status == 201, formula.response.text
    problems = json.dumps(formula.response.json())
    assert "cell.formula_without_value" in problems, problems[:500]
    assert "CMD" not in problems
    typed = fill_template([{**client_row(9003), "company.name": FORMULA, "user.email": "x"}])
    text = await send(
        app, "POST", "/v1/imports", headers=bearer(), files={"file": ("t.xlsx", typed)}
    )
    assert text.status == 201, text.response.text
    report = await send(
        app, "GET", f"/v1/imports/{text.response.json()['id']}/report.xlsx", headers=bearer()
    )
    assert report.status == 200
    sheet = load_workbook(io.BytesIO(report.response.content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    risky = [c for c in cells if c.value.startswith(FORMULA_TRIGGERS)]
    assert all(c.quotePrefix for c in risky), [(c.coordinate, c.value) for c in risky]


async def test_an_uploaded_workbooks_name_is_kept_as_a_plain_file_name(apps: Apps) -> None:
    """Was: kept as sent (folders, bidi overrides), unlike every other upload of the platform
    (portal_contracts.filenames: applied where a name enters)."""
    app = await apps.get("importer")
    workbook = fill_template([client_row(9004)])
    name = "..\\../etc/evil\u202egpj.xlsx"
    sent = await send(
        app, "POST", "/v1/imports", headers=bearer(), files={"file": (name, workbook)}
    )
    assert sent.status == 201, sent.response.text
    assert sent.response.json()["filename"] == "evilgpj.xlsx"
