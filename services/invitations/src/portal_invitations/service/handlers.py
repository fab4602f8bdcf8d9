"""Use cases: one verb-named handler per command, each loading ``ClientAccess``, asking it to
change, and saving it (retrying on a concurrent change). No HTTP, no Kafka here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from portal_contracts.values import InvalidValue, normalise_mobile_phone
from portal_invitations.domain.errors import (
    HeaderInjection,
    InvitationLinkInvalid,
    MobileMismatch,
    WeakPassword,
)
from portal_invitations.domain.events import Cause
from portal_invitations.domain.model import ClientAccess, LinkState
from portal_invitations.domain.passwords import password_problems
from portal_invitations.domain.tokens import plausible_token, token_hash
from portal_invitations.ports import Conflict, FailedAttempts
from portal_invitations.service import commands
from portal_invitations.service.deps import Deps

T = TypeVar("T")
_INVITATION_IDS = uuid.UUID("5b6c3f0e-6a0e-4d8e-9f3c-1d3c2a7e9b41")
_ATTEMPTS = 5


class ClientNotFound(Exception):
    """Unknown here, or another office's, or outside the caller's groups: all answer 404."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


def derived_id(event_id: str, purpose: str) -> str:
    """The same event always yields the same invitation id: redelivery is recognised."""
    return str(uuid.uuid5(_INVITATION_IDS, f"{event_id}:{purpose}"))


async def _change(
    load: Callable[[], Awaitable[ClientAccess]],
    mutate: Callable[[ClientAccess], T],
    deps: Deps,
) -> tuple[ClientAccess, T]:
    for _ in range(_ATTEMPTS):
        access = await load()
        result = mutate(access)
        try:
            await deps.access.save(access)
        except Conflict:
            continue  # someone changed it meanwhile: decide again on the fresh state
        deps.notify()
        return access, result
    raise Conflict("too much contention")


def _loader(
    deps: Deps, client_id: str, by: commands.Accountant
) -> Callable[[], Awaitable[ClientAccess]]:
    async def load() -> ClientAccess:
        access = await deps.access.get(client_id)
        if (
            access is None
            or access.office_id != by.office_id
            or (by.groups is not None and access.profile.group_id not in by.groups)
        ):
            raise ClientNotFound(client_id)
        return access

    return load


# --- events from the clients service ---------------------------------------------------------


async def record_client(cmd: commands.RecordClient, deps: Deps) -> None:
    """ClientCreated / ClientUpdated: keep the read model; invite when the import asked to."""
    for _ in range(_ATTEMPTS):
        access = await deps.access.get(cmd.profile.client_id)
        access, changed = _record(access, cmd, deps.clock.now())
        if not changed:
            return
        try:
            await deps.access.save(access)
        except Conflict:
            continue
        deps.notify()
        return
    raise Conflict("too much contention")


async def record_clients(cmd: commands.RecordClients, deps: Deps) -> int:
    """A batch of ClientCreated / ClientUpdated, in their order, with the same effect as
    :func:`record_client` on each: the clients are read at once, the new ones stored at once
    and the changed ones saved at once; a client changed by someone else meanwhile is done
    again one snapshot at a time. Returns how many clients changed."""
    now = deps.clock.now()
    loaded = await deps.access.get_many([item.profile.client_id for item in cmd.items])
    changed: set[str] = set()
    for item in cmd.items:
        client_id = item.profile.client_id
        access, did = _record(loaded.get(client_id), item, now)
        loaded[client_id] = access
        if did:
            changed.add(client_id)
    new = [loaded[c] for c in changed if loaded[c].version == 0]
    stored = [loaded[c] for c in changed if loaded[c].version > 0]
    store_new = deps.store_new or deps.access.add_new
    again = {access.client_id for access in await store_new(new)}
    again |= await deps.access.save_many(stored)
    for item in cmd.items:
        if item.profile.client_id in again:
            await record_client(item, deps)
    if changed:
        deps.notify()
    return len(changed)


def _record(
    access: ClientAccess | None, cmd: commands.RecordClient, now: datetime
) -> tuple[ClientAccess, bool]:
    """Apply one snapshot (and the import's invitation) to the client; True when it changed."""
    profile = cmd.profile
    if access is None:
        access, changed = ClientAccess(profile=profile), True
    elif access.office_id != profile.office_id:
        return access, False  # client ids are global; another office's id is a producer bug
    else:
        reissue = derived_id(cmd.event_id, "reissue")
        changed = access.record_profile(profile, now, reissue, cmd.cause)
    if cmd.invite:
        changed = _invite_from_import(access, cmd, now) or changed
    return access, changed


def _invite_from_import(access: ClientAccess, cmd: commands.RecordClient, now: datetime) -> bool:
    invitation_id = derived_id(cmd.event_id, "invite")
    try:
        return access.invite_once(invitation_id, now, "import", cmd.cause) is not None
    except HeaderInjection as exc:
        # Nobody to answer on Kafka: the refusal is recorded, visible through the API.
        access.refuse_invitation(
            invitation_id, now, "import", cmd.cause, f"{exc.code}: {exc.field}"
        )
        return True


# --- the accountant's actions ----------------------------------------------------------------


async def invite_client(cmd: commands.InviteClient, deps: Deps) -> ClientAccess:
    """Invite, or resend (the previous link is voided)."""
    now = deps.clock.now()
    invitation_id = str(uuid.uuid4())
    cause = Cause(correlation_id=str(uuid.uuid4()))
    access, _ = await _change(
        _loader(deps, cmd.client_id, cmd.by),
        lambda a: a.invite(invitation_id, now, "accountant", cause),
        deps,
    )
    return access


async def revoke_invitation(cmd: commands.RevokeInvitation, deps: Deps) -> ClientAccess:
    now = deps.clock.now()
    cause = Cause(correlation_id=str(uuid.uuid4()))
    access, _ = await _change(
        _loader(deps, cmd.client_id, cmd.by), lambda a: a.revoke(now, cause), deps
    )
    return access


async def activate_client(cmd: commands.ActivateClient, deps: Deps) -> ClientAccess:
    """Managed by the accountant: active at once, no e-mail, the client is not told."""
    now = deps.clock.now()
    cause = Cause(correlation_id=str(uuid.uuid4()))
    access, _ = await _change(
        _loader(deps, cmd.client_id, cmd.by),
        lambda a: a.activate_by_accountant(now, cause),
        deps,
    )
    return access


async def show_invitation(cmd: commands.ShowInvitation, deps: Deps) -> ClientAccess:
    return await _loader(deps, cmd.client_id, cmd.by)()


async def remember_office_profile(cmd: commands.RememberOfficeProfile, deps: Deps) -> bool:
    """The office's profile from clients (an older or repeated version changes nothing)."""
    return await deps.offices.remember(cmd.office_id, cmd.version, cmd.profile)


# --- the client accepting --------------------------------------------------------------------


def _mobile(raw: str) -> str:
    try:
        return normalise_mobile_phone(raw)
    except InvalidValue:
        return raw.strip()


async def accept_invitation(cmd: commands.AcceptInvitation, deps: Deps) -> ClientAccess:
    """Check the link, the mobile number and the password; create the login; activate.

    The link is looked up first: a valid one is never refused because of others' guesses from
    the same address (a gateway, an office's network). Links that lead nowhere count against
    the client's address, which is refused for a while past its limit; wrong mobile numbers
    count against the link itself, which only its holder can do."""
    now = deps.clock.now()
    hashed = token_hash(cmd.token[:512])
    access = await _link_holder(deps, cmd.token, hashed, now)
    if access is None:
        await _count_failure(deps.address_failures, cmd.client_address, now)
        raise InvitationLinkInvalid
    wait = await deps.link_failures.wait(hashed, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    try:
        access.confirm_mobile(_mobile(cmd.mobile_phone))
    except MobileMismatch:
        await _count_failure(deps.link_failures, hashed, now)
        raise
    p = access.profile
    problems = password_problems(cmd.password, (p.email, p.first_name, p.last_name))
    if problems:
        raise WeakPassword(problems)
    password_hash = await deps.hasher.hash(cmd.password)
    cause = Cause(correlation_id=str(uuid.uuid4()))
    for _ in range(_ATTEMPTS):
        access.accept(hashed, password_hash, now, cause)
        try:
            await deps.access.save(access)
        except Conflict:
            # Changed meanwhile (a profile update, or the link used at this very moment):
            # decide again on the fresh state, which refuses a link that is no longer valid.
            fresh = await _link_holder(deps, cmd.token, hashed, now)
            if fresh is None:
                raise InvitationLinkInvalid from None
            fresh.confirm_mobile(_mobile(cmd.mobile_phone))
            access = fresh
            continue
        deps.notify()
        return access
    raise Conflict("too much contention")


async def inspect_link(
    cmd: commands.InspectLink, deps: Deps
) -> tuple[LinkState, ClientAccess | None]:
    """What a link opens (valid, used, expired, revoked or invalid) and whose it is. A link that
    leads nowhere counts against the address, as at acceptance: the page is no guessing oracle."""
    now = deps.clock.now()
    hashed = token_hash(cmd.token[:512])
    access = await deps.access.by_token_hash(hashed) if plausible_token(cmd.token) else None
    state: LinkState = "invalid" if access is None else access.link_state(hashed, now)
    if state == "invalid":
        await _count_failure(deps.address_failures, cmd.client_address, now)
        return state, None
    return state, access


async def _link_holder(deps: Deps, token: str, hashed: str, now: datetime) -> ClientAccess | None:
    """The client whose invitation this link opens now, if any."""
    if not plausible_token(token):
        return None
    access = await deps.access.by_token_hash(hashed)
    if access is None:
        return None
    try:
        access.acceptable_invitation(hashed, now)
    except InvitationLinkInvalid:
        return None
    return access


async def _count_failure(counter: FailedAttempts, key: str, now: datetime) -> None:
    wait = await counter.record(key, now)
    if wait is not None:
        raise TooManyAttempts(wait)


# Every handler, by the command it takes.
HANDLERS: dict[type[Any], Callable[[Any, Deps], Awaitable[Any]]] = {
    commands.RecordClient: record_client,
    commands.RecordClients: record_clients,
    commands.ShowInvitation: show_invitation,
    commands.InviteClient: invite_client,
    commands.RevokeInvitation: revoke_invitation,
    commands.ActivateClient: activate_client,
    commands.AcceptInvitation: accept_invitation,
    commands.InspectLink: inspect_link,
    commands.RememberOfficeProfile: remember_office_profile,
}
