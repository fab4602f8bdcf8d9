"""Identity as production has it: RS256/ES256 tokens checked against a JWKS served over HTTP,
issuer, audience and clock skew checked, HS256 refused once a JWKS URL is configured; the edge
resolves a staff member's groups from the clients service's answer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from portal_contracts.identity import (
    AUDIENCE,
    ISSUER,
    Caller,
    InvalidToken,
    Role,
    claims_of,
    issue_token,
)
from portal_servicekit.app import create_service_app
from portal_servicekit.identity import CurrentCaller
from portal_servicekit.staff_groups import LOOKUP_HEADER
from portal_servicekit.tokens import (
    IdentitySettings,
    IdentityUnavailable,
    JwksVerifier,
    LocalKeyVerifier,
    token_verifier,
)

HS_KEY = "tests-only-hs256-key-0123456789abcdef-xyz"
ALICE = Caller(office_id="o1", user_id="alice", role=Role.STAFF, groups=("claimed",))


def _b64(n: int, size: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).decode().rstrip("=")


def _jwk(key: Any, kid: str) -> dict[str, str]:
    public = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": _b64(public.n, 256), "e": _b64(public.e, 3)}  # fmt: skip
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": _b64(public.x, 32), "y": _b64(public.y, 32)}  # fmt: skip


class Provider:
    """A JWKS endpoint on loopback that counts its fetches and can be taken down."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.keys = [_jwk(self.rsa, "rsa-1"), _jwk(self.ec, "ec-1")]
        self.fetches = 0
        self.down = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                if provider.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"keys": provider.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"

    def sign(self, claims: dict[str, Any], *, alg: str = "ES256", kid: str | None = None) -> str:
        key = self.ec if alg == "ES256" else self.rsa
        kid = kid or ("ec-1" if alg == "ES256" else "rsa-1")
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    thread = threading.Thread(target=p.server.serve_forever, daemon=True)
    thread.start()
    yield p
    p.server.shutdown()
    p.server.server_close()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token by hand (PyJWT itself refuses a JWK as an HMAC secret)."""

    def part(value: dict[str, Any]) -> bytes:
        raw = json.dumps(value, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signed = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(claims)
    mac = base64.urlsafe_b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).rstrip(b"=")
    return (signed + b"." + mac).decode()


def _settings(provider: Provider, **more: Any) -> IdentitySettings:
    return IdentitySettings(PORTAL_JWT_JWKS_URL=provider.url, **more)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_asymmetric_tokens_verify_against_the_jwks(provider: Provider, alg: str) -> None:
    verifier = JwksVerifier(_settings(provider))
    token = provider.sign(claims_of(ALICE), alg=alg)
    assert await verifier.averify(token) == ALICE
    assert verifier.verify(token) == ALICE
    assert provider.fetches == 1  # cached: the set is fetched once


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "someone-else"}, "issuer"),
        ({"aud": "another-api"}, "audience"),
        ({"exp": datetime.now(UTC) - timedelta(seconds=31)}, "expired beyond the skew"),
        ({"iat": datetime.now(UTC) + timedelta(seconds=120)}, "issued in the future"),
        ({"nbf": datetime.now(UTC) + timedelta(seconds=120)}, "not yet valid"),
    ],
)
async def test_issuer_audience_and_time_are_checked(
    provider: Provider, change: dict[str, Any], reason: str
) -> None:
    verifier = JwksVerifier(_settings(provider))
    with pytest.raises(InvalidToken):
        await verifier.averify(provider.sign({**claims_of(ALICE), **change}))


async def test_clock_skew_is_bounded(provider: Provider) -> None:
    verifier = JwksVerifier(_settings(provider, PORTAL_JWT_LEEWAY_S=30))
    just_expired = {**claims_of(ALICE), "exp": datetime.now(UTC) - timedelta(seconds=10)}
    assert await verifier.averify(provider.sign(just_expired)) == ALICE
    with pytest.raises(ValueError, match="less than or equal"):
        IdentitySettings(PORTAL_JWT_JWKS_URL=provider.url, PORTAL_JWT_LEEWAY_S=3600)


async def test_hs256_is_refused_when_a_jwks_url_is_configured(provider: Provider) -> None:
    verifier = token_verifier(HS_KEY, _settings(provider))
    assert isinstance(verifier, JwksVerifier)
    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier.averify(issue_token(ALICE, HS_KEY))
    # the classic confusion: HS256 "signed" with the provider's public key as the secret
    forged = _hs256(claims_of(ALICE), json.dumps(provider.keys[0]).encode(), kid="ec-1")
    with pytest.raises(InvalidToken):
        await verifier.averify(forged)
    with pytest.raises(InvalidToken):
        await verifier.averify(jwt.encode(claims_of(ALICE), None, algorithm="none"))


async def test_without_a_jwks_url_the_local_key_is_development_hs256() -> None:
    verifier = token_verifier(HS_KEY, IdentitySettings(PORTAL_JWT_JWKS_URL=None))
    assert isinstance(verifier, LocalKeyVerifier)
    assert await verifier.averify(issue_token(ALICE, HS_KEY)) == ALICE
    no_audience = {k: v for k, v in claims_of(ALICE).items() if k != "aud"}
    with pytest.raises(InvalidToken):
        verifier.verify(jwt.encode(no_audience, HS_KEY, algorithm="HS256"))


async def test_unknown_kids_refetch_at_most_once_per_cooldown(provider: Provider) -> None:
    verifier = JwksVerifier(_settings(provider), cooldown_s=60)
    assert await verifier.averify(provider.sign(claims_of(ALICE))) == ALICE
    for n in range(5):
        with pytest.raises(InvalidToken):
            await verifier.averify(provider.sign(claims_of(ALICE), kid=f"made-up-{n}"))
    assert provider.fetches == 1  # within the cooldown, made-up kids cost no fetch


async def test_a_rotated_key_is_picked_up(provider: Provider) -> None:
    verifier = JwksVerifier(_settings(provider), cooldown_s=0)
    assert await verifier.averify(provider.sign(claims_of(ALICE))) == ALICE
    provider.ec = ec.generate_private_key(ec.SECP256R1())
    provider.keys = [_jwk(provider.ec, "ec-2")]
    assert await verifier.averify(provider.sign(claims_of(ALICE), kid="ec-2")) == ALICE


async def test_a_provider_outage_keeps_the_last_keys_and_is_503_without_them(
    provider: Provider,
) -> None:
    verifier = JwksVerifier(_settings(provider, PORTAL_JWT_JWKS_CACHE_S=0.05))
    token = provider.sign(claims_of(ALICE))
    assert await verifier.averify(token) == ALICE
    provider.down = True
    await asyncio.sleep(0.1)  # the cached set expired; the provider does not answer
    assert await verifier.averify(token) == ALICE
    cold = JwksVerifier(_settings(provider))
    with pytest.raises(IdentityUnavailable):
        await cold.averify(token)


def _app(provider: Provider, groups: dict[str, list[str]]) -> FastAPI:
    """A service app behind the edge, with a clients service answering staff groups."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers[LOOKUP_HEADER] == "1"
        user = request.url.path.split("/")[3]
        return httpx.Response(200, json=groups.get(user, []))

    from portal_servicekit.staff_groups import ClientsStaffGroups

    clients = ClientsStaffGroups(
        "http://clients.test", client=httpx.AsyncClient(transport=httpx.MockTransport(answer))
    )
    app = create_service_app(
        title="t", jwt_key="", verifier=JwksVerifier(_settings(provider)), staff_groups=clients
    )

    @app.get("/v1/me")
    async def me(caller: CurrentCaller) -> dict[str, Any]:
        return {"groups": sorted(caller.visible_groups() or ["*"])}

    return app


async def test_the_edge_takes_staff_groups_from_the_clients_service(provider: Provider) -> None:
    app = _app(provider, {"alice": ["g-north"]})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        token = provider.sign(claims_of(ALICE))  # claims "claimed": not what the records say
        seen = await http.get("/v1/me", headers={"authorization": f"Bearer {token}"})
        assert seen.json() == {"groups": ["everyone", "g-north"]}
        lookup = await http.get(
            "/v1/me", headers={"authorization": f"Bearer {token}", LOOKUP_HEADER: "1"}
        )
        assert lookup.json() == {"groups": ["everyone"]}  # a lookup never widens
        admin = Caller(office_id="o1", user_id="boss", role=Role.ADMIN)
        seen = await http.get(
            "/v1/me", headers={"authorization": f"Bearer {provider.sign(claims_of(admin))}"}
        )
        assert seen.json() == {"groups": ["*"]}
        hs = await http.get(
            "/v1/me", headers={"authorization": f"Bearer {issue_token(ALICE, HS_KEY)}"}
        )
        assert hs.status_code == 401


def test_issuer_and_audience_defaults() -> None:
    assert (ISSUER, AUDIENCE) == ("accountant-portal-gateway", "accountant-portal")
