"""Who is calling: the claims of the identity provider's JWT, and how they map to a caller.

The identity provider signs a JWT (RS256/ES256 in production, its keys published as a JWKS; HS256
with a local key in development only); every service verifies it (``portal_servicekit.tokens``)
and trusts nothing else about the caller. Roles: ``admin`` sees the whole office, ``staff`` only
its groups (resolved from the clients service's records, ``portal_servicekit.staff_groups``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal_contracts.values import Language

ALGORITHM = "HS256"
ISSUER = "accountant-portal-gateway"
AUDIENCE = "accountant-portal"
# Every office has this group; every member of the office sees its clients. The one rule of who
# sees what, used by every service (Caller.visible_groups / sees_group).
EVERYONE = "everyone"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    office_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    role: Role
    groups: tuple[str, ...] = ()
    language: Language = Language.FR

    def visible_groups(self) -> frozenset[str] | None:
        """The groups whose clients this caller sees: None for an admin (every group); a staff
        member sees their own groups and "Everyone"."""
        if self.role is Role.ADMIN:
            return None
        return frozenset(self.groups) | {EVERYONE}

    def sees_group(self, group_id: str) -> bool:
        visible = self.visible_groups()
        return visible is None or group_id in visible


class InvalidToken(Exception):
    """The bearer token is missing, expired, badly signed or lacks a claim."""


def claims_of(
    caller: Caller,
    ttl: timedelta = timedelta(hours=12),
    *,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> dict[str, Any]:
    """The claims of a token naming ``caller`` (what an identity provider puts in it)."""
    now = datetime.now(UTC)
    return {
        "iss": issuer,
        "aud": audience,
        "sub": caller.user_id,
        "office_id": caller.office_id,
        "role": caller.role.value,
        "groups": list(caller.groups),
        "lang": caller.language.value,
        "iat": now,
        "exp": now + ttl,
    }


def issue_token(caller: Caller, key: str, ttl: timedelta = timedelta(hours=12)) -> str:
    """An HS256 token signed with a local key: development and tests only."""
    return jwt.encode(claims_of(caller, ttl), key, algorithm=ALGORITHM)


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The caller verified claims name (``sub``, ``office_id``, ``role``, ``groups``, ``lang``)."""
    try:
        return Caller(
            office_id=claims.get("office_id", ""),
            user_id=claims["sub"],
            role=claims.get("role"),
            groups=tuple(claims.get("groups") or ()),
            language=claims.get("lang") or Language.FR,
        )
    except (ValidationError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def verify_token(token: str, key: str, *, audience: str = AUDIENCE) -> Caller:
    """An HS256 token of :func:`issue_token` (development and tests only)."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=audience,
            options={"require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return caller_from_claims(claims)
