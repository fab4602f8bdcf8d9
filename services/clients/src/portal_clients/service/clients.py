"""Handlers for the accountant's client actions: add, read, edit, archive and restore, list,
check availability."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from portal_client_rules import OfficeRules
from portal_clients.domain.errors import (
    Conflict,
    FieldIssue,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    StaleVersion,
)
from portal_clients.domain.listing import ClientPage, ClientQuery
from portal_clients.domain.model import Client, new_client_id
from portal_clients.domain.vat import RegisterVerdict
from portal_clients.ports import Holder
from portal_clients.service.deps import Deps, sees, visible_groups
from portal_clients.service.rules import apply_rules, office_rules
from portal_contracts.clients import VatCheck
from portal_contracts.identity import Caller
from portal_contracts.values import InvalidValue, normalise_email, normalise_vat_number

logger = logging.getLogger(__name__)

ON_PLATFORM = Conflict(
    "company.on_platform", [FieldIssue("company.vat_number", "company.on_platform")]
)
TAKEN_IN_OFFICE = Conflict(
    "client.conflict", [FieldIssue("company.vat_number", "vat.taken_in_office")]
)
ARCHIVED = Conflict("client.archived")


@dataclass(frozen=True)
class ClientInput:
    raw: Mapping[str, Any]  # ClientData-shaped, raw strings as typed
    skip_vat_check: bool = False


async def create_client(command: ClientInput, caller: Caller, deps: Deps) -> Client:
    rules = await _office(caller.office_id, deps)
    data = apply_rules(command.raw, rules)
    if not sees(caller, data.group_id):
        raise Forbidden("group.forbidden", "group_id")
    # A company already on the platform is refused before the register is asked; the unique
    # index on the VAT number decides a race between two adds.
    await _company_free(data.company.vat_number, caller.office_id, None, deps)
    client = Client.register(
        client_id=new_client_id(),
        office_id=caller.office_id,
        data=data,
        vat_check=await _register_check(data.company.vat_number, command.skip_vat_check, deps),
        now=deps.clock.now(),
    )
    if client.vat_check is VatCheck.PENDING:
        client.ask_register_again(_first_recheck(deps))
    await deps.clients.add(client)
    return client


async def get_client(client_id: str, caller: Caller, deps: Deps) -> Client:
    client = await deps.clients.get(client_id)
    if client is None or client.office_id != caller.office_id:
        raise NotFound("client")
    if not sees(caller, client.data.group_id):
        raise NotFound("client")  # a staff member outside the group does not learn it exists
    return client


async def update_client(
    client_id: str, command: ClientInput, expected_version: int | None, caller: Caller, deps: Deps
) -> Client:
    """``expected_version`` None (``If-Match: *``): over whichever version is current now."""
    client = await get_client(client_id, caller, deps)
    if expected_version is None:
        expected_version = client.version
    if client.version != expected_version:
        raise StaleVersion(client.version)
    if client.archived is not None:
        raise ARCHIVED  # restore it first: an archived client is kept as it was
    rules = await _office(caller.office_id, deps)
    data = apply_rules(command.raw, rules, kept_follow_from=client.data.task_list.follow_from)
    if not sees(caller, data.group_id):
        raise Forbidden("group.forbidden", "group_id")
    vat = data.company.vat_number
    vat_check = client.vat_check
    if vat != client.data.company.vat_number:
        await _company_free(vat, caller.office_id, client_id, deps)
        vat_check = await _register_check(vat, command.skip_vat_check, deps)
        if vat_check is VatCheck.PENDING:
            client.ask_register_again(_first_recheck(deps))
    elif command.skip_vat_check and vat_check in (VatCheck.INVALID, VatCheck.PENDING):
        # The accountant vouches for a number the register refused (the flag on the list) or
        # has not answered about yet: it is not asked again.
        vat_check = VatCheck.SKIPPED
    client.edit(data, vat_check, deps.clock.now())
    # The register was asked before the write: the version condition of the write catches any
    # change made meanwhile (412).
    await deps.clients.save(client, based_on=expected_version)
    return client


async def archive_client(
    client_id: str, expected_version: int | None, caller: Caller, deps: Deps
) -> Client:
    """Out of the lists, kept as it is; its e-mail and VAT number held for ARCHIVE_HOLD."""
    client = await _current(client_id, expected_version, caller, deps)
    based_on = client.version
    if client.archive(caller.user_id, deps.clock.now()):
        await deps.clients.save(client, based_on=based_on)
    return client


async def restore_client(
    client_id: str, expected_version: int | None, caller: Caller, deps: Deps
) -> Client:
    """Back in the lists as it was; refused (the field named) when its e-mail or VAT number
    went to another client after its hold ran out."""
    client = await _current(client_id, expected_version, caller, deps)
    based_on = client.version
    if client.restore(deps.clock.now()):
        try:
            await deps.clients.save(client, based_on=based_on)
        except Conflict as refused:
            raise Conflict("client.restore_taken", refused.issues) from refused
    return client


async def _current(
    client_id: str, expected_version: int | None, caller: Caller, deps: Deps
) -> Client:
    client = await get_client(client_id, caller, deps)
    if expected_version is not None and client.version != expected_version:
        raise StaleVersion(client.version)
    return client


async def release_archived_claims(deps: Deps) -> int:
    """The worker's pass: free what archived clients held once their hold has run out."""
    return await deps.clients.release_claims(deps.clock.now())


async def list_clients(query: ClientQuery, caller: Caller, deps: Deps) -> ClientPage:
    if query.office_id != caller.office_id:
        raise NotFound(query.office_id)
    groups = visible_groups(caller)
    if groups is not None:
        allowed = groups if query.visible_groups is None else groups & query.visible_groups
        query = replace(query, visible_groups=allowed)
    if query.groups == frozenset():
        return ClientPage([], None)
    return await deps.clients.page(query)


Availability = Literal["available", "unavailable", "taken_in_office", "invalid"]


async def check_availability(
    emails: list[str], vat_numbers: list[str], caller: Caller, deps: Deps
) -> tuple[dict[str, Availability], dict[str, Availability]]:
    """For the importer: can this office add clients with these e-mails and companies?

    It answers what the caller needs to fix its own rows and nothing more: a value held by a
    client the caller sees is ``taken_in_office``; held anywhere else (another office, a group
    the caller does not see) it is just ``unavailable``.
    """
    count = len(emails) + len(vat_numbers)
    wait = await deps.quota.take(f"availability:{caller.office_id}", count, deps.clock.now())
    logger.info(
        "availability check: office %s, user %s, %d values%s",
        caller.office_id,
        caller.user_id,
        count,
        " (refused: over the hourly allowance)" if wait else "",
    )
    if wait is not None:
        raise RateLimited("availability.rate_limited", max(1, int(wait.total_seconds())))
    email_of = _normalised(emails, normalise_email)
    vat_of = _normalised(vat_numbers, normalise_vat_number)
    holders = await deps.clients.holders(
        sorted({v for v in email_of.values() if v}), sorted({v for v in vat_of.values() if v})
    )

    def answer(value: str | None, holder: Holder | None) -> Availability:
        if value is None:
            return "invalid"
        if holder is None:
            return "available"
        mine = holder.office_id == caller.office_id and sees(caller, holder.group_id)
        return "taken_in_office" if mine else "unavailable"

    by_email = {h.email: h for h in holders}
    by_vat = {h.vat_number: h for h in holders}
    return (
        {raw: answer(v, by_email.get(v or "")) for raw, v in email_of.items()},
        {raw: answer(v, by_vat.get(v or "")) for raw, v in vat_of.items()},
    )


# --- helpers -------------------------------------------------------------------------------------


def _normalised(values: list[str], normalise: Any) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for raw in values:
        try:
            out[raw] = normalise(raw)
        except InvalidValue:
            out[raw] = None
    return out


async def _office(office_id: str, deps: Deps) -> OfficeRules:
    (settings, _), groups, connections = await asyncio.gather(
        deps.settings.get(office_id), deps.groups.all(office_id), deps.connections.of(office_id)
    )
    return office_rules(settings, groups, deps.clock.today(), connections)


async def _company_free(vat: str, office_id: str, client_id: str | None, deps: Deps) -> None:
    """A company is a client of one office on the platform, once."""
    for holder in await deps.clients.holders([], [vat]):
        if holder.client_id != client_id:
            raise TAKEN_IN_OFFICE if holder.office_id == office_id else ON_PLATFORM


async def _register_check(vat: str, skip: bool, deps: Deps) -> VatCheck:
    """Ask the register unless told not to; a clear "no" refuses, silence is "pending"."""
    if skip:
        return VatCheck.SKIPPED
    answer = await deps.register.check(vat)
    if answer.verdict is RegisterVerdict.INVALID:
        issue = FieldIssue("company.vat_number", answer.refusal_code(), {"detail": answer.detail})
        raise Invalid([issue])
    return answer.as_check()


def _first_recheck(deps: Deps) -> datetime:
    return deps.clock.now() + deps.recheck_policy.delay(1, deps.jitter.random())
