"""A staff member's groups, from the clients service's records — the same way in every service.

A token says who the caller is (office, user, role); which groups a staff member belongs to is
the clients service's data (each group lists its staff), so no service trusts a ``groups`` claim
when ``PORTAL_STAFF_GROUPS_URL`` (the clients service's base URL) is set: the edge asks
``GET /v1/staff/{user}/groups`` there with the caller's own token, keeps the answer
``PORTAL_STAFF_GROUPS_CACHE_S`` seconds per (office, user), and hands the caller on with those
groups; :meth:`Caller.visible_groups` then adds "Everyone" as for everybody. An admin is never
looked up (they see every group).

The lookup is sent with :data:`LOOKUP_HEADER`; an edge receiving it gives the staff caller no
groups instead of resolving them again (the clients service would otherwise ask itself forever),
which can only narrow what a request sees. A service holding the records itself (clients) sets
``app.state.staff_groups`` to its own :class:`StaffGroups` instead.
"""

from __future__ import annotations

import time
from typing import Protocol
from urllib.parse import quote

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_contracts.identity import Caller, Role
from portal_servicekit.tokens import IdentityUnavailable

LOOKUP_HEADER = "x-portal-groups-lookup"


class StaffGroups(Protocol):
    async def groups_of(self, caller: Caller, token: str) -> tuple[str, ...]: ...


class StaffGroupsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    url: str | None = Field(default=None, validation_alias="PORTAL_STAFF_GROUPS_URL")
    cache_s: float = Field(
        default=30.0, ge=0, le=600, validation_alias="PORTAL_STAFF_GROUPS_CACHE_S"
    )


class ClientsStaffGroups:
    """The clients service's answer, cached per (office, user)."""

    def __init__(
        self,
        base_url: str,
        *,
        cache_s: float = 30.0,
        max_entries: int = 10_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._cache_s = cache_s
        self._max = max_entries
        self._client = client or httpx.AsyncClient(timeout=3.0)
        self._cache: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}

    async def groups_of(self, caller: Caller, token: str) -> tuple[str, ...]:
        key = (caller.office_id, caller.user_id)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        url = f"{self._base}/v1/staff/{quote(caller.user_id, safe='')}/groups"
        headers = {"authorization": f"Bearer {token}", LOOKUP_HEADER: "1"}
        try:
            answer = await self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"staff groups: {exc}") from exc
        if answer.status_code != 200:
            raise IdentityUnavailable(f"staff groups: HTTP {answer.status_code}")
        body = answer.json()
        if not isinstance(body, list) or not all(isinstance(g, str) for g in body):
            raise IdentityUnavailable("staff groups: not a list of group ids")
        groups = tuple(sorted(body))
        if len(self._cache) >= self._max:
            self._cache.clear()
        if self._cache_s > 0:
            self._cache[key] = (now + self._cache_s, groups)
        return groups


def staff_groups_from_environment() -> StaffGroups | None:
    settings = StaffGroupsSettings()
    if not settings.url:
        return None
    return ClientsStaffGroups(settings.url, cache_s=settings.cache_s)


async def with_groups(
    caller: Caller, token: str, resolver: StaffGroups | None, *, lookup: bool
) -> Caller:
    """The caller with their groups from the clients service's records (see the module)."""
    if caller.role is not Role.STAFF:
        return caller
    if lookup:
        return caller.model_copy(update={"groups": ()})
    if resolver is None:  # development and tests: the token's own claim
        return caller
    return caller.model_copy(update={"groups": await resolver.groups_of(caller, token)})
