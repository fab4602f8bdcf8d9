"""Verifying the bearer token of a request: the identity provider's JWKS in production, a local
HS256 key in development.

Production: the identity provider signs RS256 or ES256 tokens and publishes its public keys as a
JWKS (``PORTAL_JWT_JWKS_URL``). :class:`JwksVerifier` reads them with PyJWT's ``PyJWKClient``
(the key set cached ``PORTAL_JWT_JWKS_CACHE_S``, an unknown ``kid`` refetched at most once per
cooldown, a fetch done off the event loop, the last set kept when the provider does not answer),
and checks the signature, the issuer (``PORTAL_JWT_ISSUER``), the audience
(``PORTAL_JWT_AUDIENCE``), ``exp``/``iat``/``nbf`` with a bounded clock skew
(``PORTAL_JWT_LEEWAY_S``, at most 5 minutes). Only asymmetric algorithms are taken there: an HS256
token is refused when a JWKS URL is configured, whatever key signed it.

Development and tests: with no JWKS URL, :class:`LocalKeyVerifier` checks HS256 tokens signed with
``PORTAL_JWT_KEY`` (``make token``, the test suites), issuer and audience included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_contracts.identity import (
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    Caller,
    InvalidToken,
    caller_from_claims,
)

log = logging.getLogger(__name__)

ASYMMETRIC = ("RS256", "ES256")
MAX_LEEWAY_S = 300.0
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


class IdentityUnavailable(Exception):
    """The identity provider's keys cannot be fetched (and none are cached): 503, not 401."""


class TokenVerifier(Protocol):
    """Turns a bearer token into the caller it names, or raises :class:`InvalidToken`."""

    def verify(self, token: str) -> Caller: ...

    async def averify(self, token: str) -> Caller: ...


class IdentitySettings(BaseSettings):
    """How tokens are verified (unprefixed environment variables, shared by every service)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    jwks_url: str | None = Field(default=None, validation_alias="PORTAL_JWT_JWKS_URL")
    issuer: str = Field(default=ISSUER, validation_alias="PORTAL_JWT_ISSUER")
    audience: str = Field(default=AUDIENCE, validation_alias="PORTAL_JWT_AUDIENCE")
    leeway_s: float = Field(
        default=30.0, ge=0, le=MAX_LEEWAY_S, validation_alias="PORTAL_JWT_LEEWAY_S"
    )
    jwks_cache_s: float = Field(default=300.0, gt=0, validation_alias="PORTAL_JWT_JWKS_CACHE_S")
    algorithms: tuple[str, ...] = Field(
        default=ASYMMETRIC, validation_alias="PORTAL_JWT_ALGORITHMS"
    )

    @field_validator("jwks_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("PORTAL_JWT_JWKS_URL must be an http(s) URL")
        return value

    @field_validator("algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [a.strip() for a in value.split(",") if a.strip()]
        if not value or any(a not in ASYMMETRIC for a in value):
            raise ValueError(f"PORTAL_JWT_ALGORITHMS takes only {', '.join(ASYMMETRIC)}")
        return tuple(value)


def _decode(
    token: str, key: Any, algorithms: list[str], settings: IdentitySettings
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway_s,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return claims


class LocalKeyVerifier:
    """HS256 with a shared key: development and tests only (refused with a JWKS URL)."""

    def __init__(self, key: str, settings: IdentitySettings | None = None) -> None:
        if len(key) < 32:
            raise ValueError("the local JWT key must have at least 32 characters")
        self._key = key
        self._settings = settings or IdentitySettings(PORTAL_JWT_JWKS_URL=None)

    def verify(self, token: str) -> Caller:
        return caller_from_claims(_decode(token, self._key, [ALGORITHM], self._settings))

    async def averify(self, token: str) -> Caller:
        return self.verify(token)


def _header(token: str) -> Mapping[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return header


class JwksVerifier:
    """RS256/ES256 tokens checked against the identity provider's JWKS (see the module)."""

    def __init__(
        self,
        settings: IdentitySettings,
        *,
        cooldown_s: float = 30.0,
        timeout_s: float = 5.0,
        client: PyJWKClient | None = None,
    ) -> None:
        if settings.jwks_url is None:
            raise ValueError("JwksVerifier needs PORTAL_JWT_JWKS_URL")
        self._settings = settings
        self._algorithms = list(settings.algorithms)
        self._client = client or PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=settings.jwks_cache_s,
            timeout=timeout_s,
            cooldown_duration=cooldown_s,
        )

    def _cached(self, kid: str | None, *, stale: bool = False) -> PyJWK | None:
        cache = self._client.jwk_set_cache
        if cache is None or cache.jwk_set_with_timestamp is None:
            return None
        if cache.is_expired() and not stale:
            return None
        keys = [
            k
            for k in cache.jwk_set_with_timestamp.get_jwk_set().keys
            if k.public_key_use in ("sig", None)
        ]
        return self._pick(keys, kid)

    @staticmethod
    def _pick(keys: list[PyJWK], kid: str | None) -> PyJWK | None:
        if kid is None:  # a provider with one key may omit the kid
            return keys[0] if len(keys) == 1 else None
        return next((k for k in keys if k.key_id == kid), None)

    def _fetch(self, kid: str | None) -> PyJWK:
        """The key, fetching the set when needed (blocking I/O: called off the loop)."""
        try:
            if kid is None:
                found = self._pick(self._client.get_signing_keys(), None)
                if found is None:
                    raise InvalidToken("the token names no key (kid)")
                return found
            return self._client.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            stale = self._cached(kid, stale=True)
            if stale is not None:  # the provider is down: the keys it served last still hold
                log.warning("identity provider unreachable; using its last key set: %s", exc)
                return stale
            raise IdentityUnavailable(str(exc)) from exc
        except PyJWKClientError as exc:
            raise InvalidToken(str(exc)) from exc

    def _check(self, token: str, key: PyJWK) -> Caller:
        if key.algorithm_name not in self._algorithms:
            raise InvalidToken(f"key {key.key_id} is for {key.algorithm_name}")
        return caller_from_claims(_decode(token, key, self._algorithms, self._settings))

    def _algorithm(self, token: str) -> str | None:
        header = _header(token)
        if header.get("alg") not in self._algorithms:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        return kid if isinstance(kid, str) else None

    def verify(self, token: str) -> Caller:
        kid = self._algorithm(token)
        return self._check(token, self._cached(kid) or self._fetch(kid))

    async def averify(self, token: str) -> Caller:
        kid = self._algorithm(token)
        key = self._cached(kid)
        if key is None:  # a fetch is blocking I/O: off the event loop
            key = await asyncio.to_thread(self._fetch, kid)
        return self._check(token, key)


def token_verifier(jwt_key: str, settings: IdentitySettings | None = None) -> TokenVerifier:
    """The verifier the environment asks for: the JWKS when ``PORTAL_JWT_JWKS_URL`` is set (the
    local key then refused), else the local HS256 key (development)."""
    settings = settings or IdentitySettings()
    if settings.jwks_url is not None:
        if jwt_key:
            log.warning("PORTAL_JWT_JWKS_URL is set: HS256 tokens (PORTAL_JWT_KEY) are refused")
        return JwksVerifier(settings)
    return LocalKeyVerifier(jwt_key, settings)
