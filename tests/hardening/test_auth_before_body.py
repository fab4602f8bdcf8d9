"""Issue 16 point 1a: a protected route refuses a caller whose bearer token does not verify
(401 problem+json) before reading one byte of the body; the public routes are a short explicit
list. Table: every route of every service's app."""

from __future__ import annotations

import time

import pytest

from tests.hardening.apps import SERVICES, bearer
from tests.hardening.wire import Apps, MiB, chunks, concrete, routes, send

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/v1/invitations/accept"),
    ("GET", "/v1/invitations/link"),
    ("GET", "/v1/invitations/password-policy"),
}
BODY = 4 * MiB  # enough to see a body read: the guard must read none of it
WRONG_KEY = "another-signing-key-not-the-services-0123456789"


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=b"])
@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({}, "auth.missing"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "auth.missing"),
        ({"authorization": "Bearer not-a-jwt"}, "auth.invalid"),
        (bearer(key=WRONG_KEY), "auth.invalid"),
    ],
    ids=["no-header", "not-bearer", "garbage-token", "wrong-key"],
)
async def test_every_protected_route_refuses_before_reading_the_body(
    apps: Apps, service: str, content_type: str, credentials: dict[str, str], code: str
) -> None:
    app = await apps.get(service)
    protected = [r for r in routes(app) if r not in PUBLIC]
    assert protected or service == "delivery", f"{service} has no protected route?"
    wrong = []
    for method, template in protected:
        sent = await send(
            app,
            method,
            concrete(template),
            content=chunks(BODY),
            headers={**credentials, "content-type": content_type, "accept-language": "nl"},
        )
        h = sent.response.headers
        outcome = (sent.status, sent.code, sent.read, h["content-type"], h["www-authenticate"])
        if outcome != (401, code, 0, "application/problem+json", "Bearer"):
            wrong.append(f"{method} {template}: {outcome}")
    assert not wrong, "\n".join(wrong)


async def test_the_401_speaks_the_callers_language(apps: Apps) -> None:
    app = await apps.get("clients")
    titles = {}
    for lang in ("fr", "nl", "en"):
        sent = await send(app, "POST", "/v1/clients", json={}, headers={"accept-language": lang})
        assert sent.status == 401
        titles[lang] = sent.problem["title"]
    assert len(set(titles.values())) == 3, titles


@pytest.mark.parametrize("service", SERVICES)
async def test_public_routes_answer_without_a_token(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    public = [r for r in routes(app) if r in PUBLIC]
    assert {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")} <= set(public)
    refused = []
    for method, template in public:
        body = {"json": {}} if method == "POST" else {}
        sent = await send(app, method, concrete(template), **body)
        if sent.status == 401:
            refused.append(f"{method} {template}")
    assert not refused, refused


async def test_invitation_accept_is_public_but_reads_its_body(apps: Apps) -> None:
    app = await apps.get("invitations")
    sent = await send(app, "POST", "/v1/invitations/accept", json={"token": "t"})
    assert (sent.status, sent.code) == (422, "validation"), sent.response.text
    assert sent.read > 0


async def test_ubl_refuses_a_200_mb_upload_at_once(apps: Apps) -> None:
    """Was: spooled to /tmp in full, then 401 (3.5 s)."""
    app = await apps.get("ubl")
    started = time.perf_counter()
    sent = await send(
        app,
        "POST",
        "/v1/documents",
        files={"pdf": ("big.pdf", chunks_sync(200 * MiB), "application/pdf")},
        data={"kind": "sales_invoice", "client_id": "c1"},
    )
    elapsed = time.perf_counter() - started
    assert (sent.status, sent.code, sent.read) == (401, "auth.missing", 0)
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def chunks_sync(total: int) -> object:
    """A file-like object of ``total`` bytes that is made as it is read."""

    class Lazy:
        def __init__(self) -> None:
            self.left = total

        def read(self, size: int = -1) -> bytes:
            step = self.left if size < 0 else min(size, self.left)
            self.left -= step
            return b"x" * step

    return Lazy()
