"""Handlers for the accountant's client actions: add, read, edit, list, check availability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from portal_clients.domain.errors import (
    Conflict,
    FieldIssue,
    Forbidden,
    Invalid,
    NotFound,
    StaleVersion,
)
from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client, new_client_id
from portal_clients.domain.office import Group, OfficeSettings
from portal_clients.ports import PendingCheck
from portal_clients.service.deps import Deps, sees, visible_groups
from portal_clients.service.rules import apply_rules, office_rules
from portal_contracts.clients import VatCheck
from portal_contracts.identity import Caller
from portal_contracts.values import InvalidValue, normalise_email, normalise_vat_number

ON_PLATFORM = Conflict(
    "company.on_platform", [FieldIssue("company.vat_number", "company.on_platform")]
)
NOT_REGISTERED = Invalid([FieldIssue("company.vat_number", "vat.not_registered")])


@dataclass(frozen=True)
class ClientInput:
    raw: Mapping[str, Any]  # ClientData-shaped, raw strings as typed
    skip_vat_check: bool = False


async def create_client(command: ClientInput, caller: Caller, deps: Deps) -> Client:
    rules = office_rules(*await _office(caller.office_id, deps), deps.clock.today())
    data = apply_rules(command.raw, rules)
    if not sees(caller, data.group_id):
        raise Forbidden("group.forbidden", "group_id")
    vat, client_id = data.company.vat_number, new_client_id()
    # Claimed first: a company already on the platform is refused before the register is asked.
    await deps.clients.claim_vat(vat, caller.office_id, client_id)
    try:
        vat_check = await _register_check(vat, command.skip_vat_check, deps)
        client = Client.register(
            client_id=client_id,
            office_id=caller.office_id,
            data=data,
            vat_check=vat_check,
            now=deps.clock.now(),
        )
        await deps.clients.add(client, vat_claimed=True)
    except BaseException:
        await deps.clients.release_vat(vat, client_id)
        raise
    if vat_check is VatCheck.PENDING:
        await _schedule_recheck(client, 0, deps)
    return client


async def get_client(client_id: str, caller: Caller, deps: Deps) -> Client:
    client = await deps.clients.get(client_id)
    _visible_or_404(client, caller)
    assert client is not None  # noqa: S101 - _visible_or_404 raised otherwise
    return client


async def update_client(
    client_id: str, command: ClientInput, expected_version: int | None, caller: Caller, deps: Deps
) -> Client:
    """``expected_version`` None (``If-Match: *``): over whichever version is current."""
    current = await get_client(client_id, caller, deps)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(current.version)
    rules = office_rules(*await _office(caller.office_id, deps), deps.clock.today())
    data = apply_rules(command.raw, rules, kept_follow_from=current.data.task_list.follow_from)
    if not sees(caller, data.group_id):
        raise Forbidden("group.forbidden", "group_id")
    vat = data.company.vat_number
    vat_changed = vat != current.data.company.vat_number
    vat_check = current.vat_check
    if vat_changed:
        owner = (await deps.clients.vat_owners([vat])).get(vat)
        if owner is not None and owner != caller.office_id:
            raise ON_PLATFORM
        vat_check = await _register_check(vat, command.skip_vat_check, deps)
    # The register was asked outside the lease; the version check below catches any write made
    # meanwhile (including one that changed the VAT number).
    async with deps.clients.edit(client_id) as client:
        _visible_or_404(client, caller)
        assert client is not None  # noqa: S101
        if expected_version is not None and client.version != expected_version:
            raise StaleVersion(client.version)
        client.edit(data, vat_check, deps.clock.now())
    if vat_changed:
        if vat_check is VatCheck.PENDING:
            await _schedule_recheck(client, 0, deps)
        else:
            await deps.rechecks.drop(client_id)
    return client


async def list_clients(query: ClientQuery, caller: Caller, deps: Deps) -> ClientPage:
    if query.office_id != caller.office_id:
        raise NotFound(query.office_id)
    groups = visible_groups(caller)
    if groups is not None:
        query = _restricted(query, groups)
    return await deps.clients.page(query)


Availability = Literal["available", "taken", "invalid", "taken_in_office", "on_platform"]


async def check_availability(
    emails: list[str], vat_numbers: list[str], caller: Caller, deps: Deps
) -> tuple[dict[str, Availability], dict[str, Availability]]:
    """For the importer: can these e-mails and companies be added by this office?"""
    email_status: dict[str, Availability] = {}
    normal_emails: dict[str, str] = {}
    for raw in emails:
        try:
            normal_emails[raw] = normalise_email(raw)
        except InvalidValue:
            email_status[raw] = "invalid"
    taken = await deps.clients.taken_emails(sorted(set(normal_emails.values())))
    for raw, email in normal_emails.items():
        email_status[raw] = "taken" if email in taken else "available"

    vat_status: dict[str, Availability] = {}
    normal_vats: dict[str, str] = {}
    for raw in vat_numbers:
        try:
            normal_vats[raw] = normalise_vat_number(raw)
        except InvalidValue:
            vat_status[raw] = "invalid"
    owners = await deps.clients.vat_owners(sorted(set(normal_vats.values())))
    for raw, vat in normal_vats.items():
        owner = owners.get(vat)
        if owner is None:
            vat_status[raw] = "available"
        else:
            vat_status[raw] = "taken_in_office" if owner == caller.office_id else "on_platform"
    return email_status, vat_status


# --- helpers -------------------------------------------------------------------------------------


async def _office(office_id: str, deps: Deps) -> tuple[OfficeSettings, list[Group]]:
    settings, _ = await deps.settings.get(office_id)
    groups = await deps.groups.all(office_id)
    return settings, groups


async def _register_check(vat: str, skip: bool, deps: Deps) -> VatCheck:
    """Ask the register unless told not to; a clear "no" refuses, silence is "pending"."""
    if skip:
        return VatCheck.SKIPPED
    check = (await deps.register.check(vat)).as_check()
    if check is VatCheck.INVALID:
        raise NOT_REGISTERED
    return check


async def _schedule_recheck(client: Client, attempts: int, deps: Deps) -> None:
    delay = deps.recheck_policy.delay(attempts + 1, deps.jitter.random())
    await deps.rechecks.schedule(
        PendingCheck(
            client_id=client.client_id,
            vat_number=client.data.company.vat_number,
            attempts=attempts,
            due_at=deps.clock.now() + delay,
        )
    )


def _visible_or_404(client: Client | None, caller: Caller) -> None:
    if client is None or client.office_id != caller.office_id:
        raise NotFound("client")
    if not sees(caller, client.data.group_id):
        raise NotFound("client")  # a staff member outside the group does not learn it exists


def _restricted(query: ClientQuery, groups: frozenset[str]) -> ClientQuery:
    allowed = groups if query.visible_groups is None else groups & query.visible_groups
    return replace(query, visible_groups=allowed)
