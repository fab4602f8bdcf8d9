"""The local identity provider of `make up` (development only): an ES256 key made once per
`.data/`, its public half published as a JWKS, tokens signed with it.

Services run by `make up` verify tokens against that JWKS exactly as production verifies the
identity provider's (``PORTAL_JWT_JWKS_URL``); `make token` and the dev sign-in page
(:mod:`portal_infra.dev_signin`) sign with the private half. Nothing here is a secret: the key
lives under `.data/stack/` and signs only for this machine's stack.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portal_contracts.identity import AUDIENCE, ISSUER, Caller, claims_of
from portal_infra.process import data_dir

ALGORITHM = "ES256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True)
class DevIdentity:
    private_key: ec.EllipticCurvePrivateKey
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        jwk = {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
        # RFC 7638 thumbprint: the kid changes when the key does.
        kid = _b64(hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest())
        return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def issue(self, caller: Caller, ttl: timedelta = timedelta(hours=12)) -> str:
        claims = claims_of(caller, ttl, issuer=self.issuer, audience=self.audience)
        headers = {"kid": self.public_jwk()["kid"], "typ": "JWT"}
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers=headers)


def key_path() -> Path:
    return data_dir() / "stack" / "dev-signing-key.pem"


def load(path: Path | None = None) -> DevIdentity:
    """The key under `.data/stack/` (made on first use)."""
    path = path or key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return DevIdentity(loaded)
