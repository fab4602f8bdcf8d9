"""Who is calling: the claims of the gateway's JWT, and their verification.

The gateway signs a JWT per request; every service verifies it with the configured key and trusts
nothing else about the caller. Roles: ``admin`` sees the whole office, ``staff`` only its groups.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal_contracts.values import Language

ALGORITHM = "HS256"
ISSUER = "accountant-portal-gateway"
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


def issue_token(caller: Caller, key: str, ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": caller.user_id,
        "office_id": caller.office_id,
        "role": caller.role.value,
        "groups": list(caller.groups),
        "lang": caller.language.value,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify_token(token: str, key: str) -> Caller:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iss", "sub"]},
        )
        return Caller(
            office_id=claims.get("office_id", ""),
            user_id=claims["sub"],
            role=claims.get("role"),
            groups=tuple(claims.get("groups") or ()),
            language=claims.get("lang") or Language.FR,
        )
    except (jwt.PyJWTError, ValidationError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
