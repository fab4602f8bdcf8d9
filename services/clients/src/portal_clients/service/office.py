"""Handlers for groups (create, rename, delete, staff), the office's general settings and its
profile."""

from __future__ import annotations

import uuid

from portal_clients.domain.errors import (
    Conflict,
    FieldIssue,
    Forbidden,
    Invalid,
    NotFound,
    StaleVersion,
)
from portal_clients.domain.office import (
    Group,
    OfficeProfile,
    OfficeSettings,
    malformed_staff_ids,
    name_key,
)
from portal_clients.service.deps import Deps, sees
from portal_contracts.identity import Caller, Role
from portal_contracts.values import TransferMethod

EVERYONE_FIXED = Conflict("group.everyone_fixed")


def _admin(caller: Caller) -> None:
    if caller.role is not Role.ADMIN:
        raise Forbidden("forbidden")


async def list_groups(caller: Caller, deps: Deps) -> list[Group]:
    groups = await deps.groups.all(caller.office_id)
    return [g for g in groups if sees(caller, g.group_id)]


async def create_group(name: str, caller: Caller, deps: Deps) -> Group:
    _admin(caller)
    name = " ".join(name.split())
    if not name:
        raise Invalid([FieldIssue("name", "field.required")])
    existing = await deps.groups.all(caller.office_id)
    if any(name_key(g.name) == name_key(name) for g in existing):
        raise Conflict("group.conflict", [FieldIssue("name", "group.name_taken")])
    group = Group(group_id=uuid.uuid4().hex, office_id=caller.office_id, name=name)
    await deps.groups.add(group)
    return group


async def rename_group(
    group_id: str, name: str, expected_version: int | None, caller: Caller, deps: Deps
) -> Group:
    _admin(caller)
    name = " ".join(name.split())
    if not name:
        raise Invalid([FieldIssue("name", "field.required")])
    group = await _group(group_id, expected_version, caller, deps)
    if group.is_everyone:
        raise EVERYONE_FIXED
    if group.name != name:
        based_on = group.version
        group.name = name
        group.version += 1
        await deps.groups.save(group, based_on=based_on)
    return group


async def set_group_staff(
    group_id: str, staff: list[str], expected_version: int | None, caller: Caller, deps: Deps
) -> Group:
    _admin(caller)
    malformed = malformed_staff_ids(staff)
    if malformed:
        raise Invalid([FieldIssue(f"user_ids.{i}", "staff.invalid_id") for i in malformed])
    group = await _group(group_id, expected_version, caller, deps)
    if group.staff != set(staff):
        based_on = group.version
        group.staff = set(staff)
        group.version += 1
        await deps.groups.save(group, based_on=based_on)
    return group


async def _group(group_id: str, expected_version: int | None, caller: Caller, deps: Deps) -> Group:
    """The group an edit is based on; ``expected_version`` None (``If-Match: *``): any."""
    group = next(
        (g for g in await deps.groups.all(caller.office_id) if g.group_id == group_id), None
    )
    if group is None:
        raise NotFound("group")
    if expected_version is not None and group.version != expected_version:
        raise StaleVersion(group.version)
    return group


async def delete_group(group_id: str, move_to: str | None, caller: Caller, deps: Deps) -> int:
    """Delete a group; its clients must be moved (``move_to``) or the group must be empty.

    Returns how many clients were moved. Moving is one client write each (with ClientUpdated), so
    an interrupted deletion can be repeated: moved clients stay moved.
    """
    _admin(caller)
    groups = {g.group_id: g for g in await deps.groups.all(caller.office_id)}
    if group_id not in groups:
        raise NotFound("group")
    if groups[group_id].is_everyone:
        raise EVERYONE_FIXED
    members = await deps.clients.ids_in_group(caller.office_id, group_id)
    if members and move_to is None:
        raise Conflict(
            "group.not_empty",
            [FieldIssue("move_to", "group.not_empty", {"count": str(len(members))})],
        )
    if members and (move_to not in groups or move_to == group_id):
        raise Conflict("group.conflict", [FieldIssue("move_to", "group.unknown")])
    moved = 0
    for client_id in members:
        moved += await _move(client_id, move_to or "", caller, deps)
    if moved < len(members):
        # Clients of an import not yet committed cannot be moved: keep the group for them.
        raise Conflict(
            "group.not_empty",
            [FieldIssue("move_to", "group.not_empty", {"count": str(len(members) - moved)})],
        )
    await deps.groups.delete(caller.office_id, group_id)
    return moved


async def _move(client_id: str, group_id: str, caller: Caller, deps: Deps) -> int:
    """1 once the client is in ``group_id`` (a concurrent edit makes it read the client again)."""
    for _ in range(5):
        client = await deps.clients.get(client_id)
        if client is None or client.office_id != caller.office_id:
            return 0
        based_on = client.version
        if not client.move_to_group(group_id, deps.clock.now()):
            return 1
        try:
            await deps.clients.save(client, based_on)
            return 1
        except StaleVersion:
            continue
    return 0


async def groups_of_staff(user_id: str, caller: Caller, deps: Deps) -> list[str]:
    """The groups a staff member belongs to (what the gateway puts in their token)."""
    if caller.role is not Role.ADMIN and caller.user_id != user_id:
        raise Forbidden("forbidden")
    if malformed_staff_ids([user_id]):
        raise Invalid([FieldIssue("user_id", "staff.invalid_id")])
    groups = await deps.groups.all(caller.office_id)
    return [g.group_id for g in groups if user_id in g.staff]


async def get_settings(caller: Caller, deps: Deps) -> tuple[OfficeSettings, int]:
    return await deps.settings.get(caller.office_id)


async def connection_names(caller: Caller, deps: Deps) -> dict[str, TransferMethod] | None:
    """The office's delivery connections by name (what an sFTP or agent target may name)."""
    return await deps.connections.of(caller.office_id)


async def save_settings(
    settings: OfficeSettings, expected_version: int | None, caller: Caller, deps: Deps
) -> int:
    """``expected_version`` None (``If-Match: *``): over whichever version is current; a
    concurrent save in between makes this one stale (412), never silently lost."""
    _admin(caller)
    if expected_version is None:
        _, expected_version = await deps.settings.get(caller.office_id)
    return await deps.settings.save(caller.office_id, settings, expected_version)


async def get_profile(caller: Caller, deps: Deps) -> tuple[OfficeProfile | None, int]:
    return await deps.profiles.get(caller.office_id)


async def save_profile(
    profile: OfficeProfile, expected_version: int | None, caller: Caller, deps: Deps
) -> int:
    """As save_settings: admins only, ``If-Match`` decides over which version."""
    _admin(caller)
    if expected_version is None:
        _, expected_version = await deps.profiles.get(caller.office_id)
    return await deps.profiles.save(caller.office_id, profile, expected_version)
