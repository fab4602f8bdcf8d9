"""/v1/groups, /v1/staff/{user}/groups, /v1/settings (the office's general settings) and
/v1/office/profile (its name, languages and e-mail sender name)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from portal_clients.domain.office import OfficeProfile, OfficeSettings
from portal_clients.entrypoints.http_clients import Services, expected_version
from portal_clients.entrypoints.schemas import (
    ConnectionOut,
    GroupIn,
    GroupOut,
    ProfileOut,
    SettingsOut,
    StaffIn,
)
from portal_clients.service import office as handlers
from portal_contracts.identity import Caller
from portal_servicekit.identity import CurrentCaller

router = APIRouter(prefix="/v1", tags=["groups and settings"])
IfMatch = Annotated[str | None, Header()]


@router.get("/groups", response_model=list[GroupOut])
async def list_groups(caller: CurrentCaller, deps: Services) -> list[GroupOut]:
    return [GroupOut.of(g) for g in await handlers.list_groups(caller, deps)]


@router.post("/groups", status_code=status.HTTP_201_CREATED, response_model=GroupOut)
async def create_group(
    body: GroupIn, caller: CurrentCaller, deps: Services, response: Response
) -> GroupOut:
    group = await handlers.create_group(body.name, caller, deps)
    response.headers["ETag"] = f'"{group.version}"'
    response.headers["Location"] = f"/v1/groups/{group.group_id}"
    return GroupOut.of(group)


@router.patch("/groups/{group_id}", response_model=GroupOut)
async def rename_group(
    group_id: str,
    body: GroupIn,
    caller: CurrentCaller,
    deps: Services,
    response: Response,
    if_match: IfMatch = None,
) -> GroupOut:
    group = await handlers.rename_group(
        group_id, body.name, expected_version(if_match), caller, deps
    )
    response.headers["ETag"] = f'"{group.version}"'
    return GroupOut.of(group)


@router.put("/groups/{group_id}/staff", response_model=GroupOut)
async def set_group_staff(
    group_id: str,
    body: StaffIn,
    caller: CurrentCaller,
    deps: Services,
    response: Response,
    if_match: IfMatch = None,
) -> GroupOut:
    group = await handlers.set_group_staff(
        group_id, body.user_ids, expected_version(if_match), caller, deps
    )
    response.headers["ETag"] = f'"{group.version}"'
    return GroupOut.of(group)


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(
    group_id: str, caller: CurrentCaller, deps: Services, move_to: str | None = None
) -> Response:
    await handlers.delete_group(group_id, move_to, caller, deps)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/staff/{user_id}/groups", response_model=list[str])
async def groups_of_staff(user_id: str, caller: CurrentCaller, deps: Services) -> list[str]:
    return await handlers.groups_of_staff(user_id, caller, deps)


@router.get("/settings", response_model=SettingsOut)
async def get_settings(caller: CurrentCaller, deps: Services, response: Response) -> SettingsOut:
    settings, version = await handlers.get_settings(caller, deps)
    response.headers["ETag"] = f'"{version}"'
    return SettingsOut(
        settings=settings, version=version, connections=await _connections(caller, deps)
    )


@router.put("/settings", response_model=SettingsOut)
async def save_settings(
    body: OfficeSettings,
    caller: CurrentCaller,
    deps: Services,
    response: Response,
    if_match: IfMatch = None,
) -> SettingsOut:
    version = await handlers.save_settings(body, expected_version(if_match), caller, deps)
    response.headers["ETag"] = f'"{version}"'
    return SettingsOut(settings=body, version=version, connections=await _connections(caller, deps))


@router.get("/office/profile", response_model=ProfileOut)
async def get_profile(caller: CurrentCaller, deps: Services, response: Response) -> ProfileOut:
    profile, version = await handlers.get_profile(caller, deps)
    response.headers["ETag"] = f'"{version}"'
    return ProfileOut(profile=profile, version=version)


@router.put("/office/profile", response_model=ProfileOut)
async def save_profile(
    body: OfficeProfile,
    caller: CurrentCaller,
    deps: Services,
    response: Response,
    if_match: IfMatch = None,
) -> ProfileOut:
    """Admins only; ``If-Match: "<version>"`` (0 for the first save) or ``*``. Invitations and
    delivery learn of it from OfficeProfileChanged, published in the same transaction."""
    version = await handlers.save_profile(body, expected_version(if_match), caller, deps)
    response.headers["ETag"] = f'"{version}"'
    return ProfileOut(profile=body, version=version)


async def _connections(caller: Caller, deps: Services) -> list[ConnectionOut] | None:
    names = await handlers.connection_names(caller, deps)
    if names is None:
        return None
    return [ConnectionOut(name=n, kind=k) for n, k in sorted(names.items())]
