"""The HTTP API: invite, resend, revoke, status and activate (accountants, behind the gateway's
JWT) and accept (the client, public: the token is the credential). The office's name comes
from the clients service (OfficeProfileChanged), not from here.

Run: ``uvicorn --factory portal_invitations.entrypoints.http:create_app --port 8103``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from math import ceil
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from portal_contracts.identity import Caller
from portal_invitations.bootstrap import Service, bootstrap
from portal_invitations.domain import errors
from portal_invitations.domain.model import ClientAccess
from portal_invitations.domain.passwords import MAX_LENGTH, MIN_LENGTH
from portal_invitations.entrypoints.client_address import client_address
from portal_invitations.entrypoints.messages import MESSAGES, POLICY_RULES
from portal_invitations.entrypoints.schemas import (
    AcceptedPublic,
    AcceptInvitationRequest,
    ClientAccessPublic,
    LinkPublic,
    PasswordPolicyPublic,
)
from portal_invitations.service import commands, handlers
from portal_servicekit.app import create_service_app
from portal_servicekit.identity import CallerLanguage, CurrentCaller
from portal_servicekit.mongo import ping
from portal_servicekit.problems import FieldProblem, ProblemError, message, register_messages

register_messages(MESSAGES)
T = TypeVar("T")

_STATUS: dict[type[errors.InvitationError], int] = {
    errors.ClientAlreadyActive: 409,
    errors.ClientArchived: 409,
    errors.NoOpenInvitation: 409,
    errors.NotAccountantManaged: 409,
    errors.InvitationLinkInvalid: 400,
}


def problem(exc: Exception) -> ProblemError:
    """The one place domain refusals become problem+json."""
    if isinstance(exc, handlers.ClientNotFound):
        return ProblemError(404, "not_found")
    if isinstance(exc, handlers.TooManyAttempts):
        seconds = str(max(1, ceil(exc.retry_after.total_seconds())))
        return ProblemError(429, "invitation.too_many_attempts", headers={"Retry-After": seconds})
    if isinstance(exc, errors.HeaderInjection):
        return ProblemError(422, exc.code, fields=[FieldProblem(field=exc.field, code=exc.code)])
    if isinstance(exc, errors.MobileMismatch):
        return ProblemError(
            422, exc.code, fields=[FieldProblem(field="mobile_phone", code=exc.code)]
        )
    if isinstance(exc, errors.WeakPassword):
        fields = [FieldProblem(field="password", code=code) for code in exc.codes]
        return ProblemError(422, exc.code, fields=fields)
    if isinstance(exc, errors.InvitationError):
        return ProblemError(_STATUS.get(type(exc), 409), exc.code)
    raise exc


async def _run(call: Awaitable[T]) -> T:
    try:
        return await call
    except (errors.InvitationError, handlers.ClientNotFound, handlers.TooManyAttempts) as exc:
        raise problem(exc) from exc


def current_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(current_service)]


def accountant(caller: Caller) -> commands.Accountant:
    return commands.Accountant.of(caller)


def _view(svc: Service, access: ClientAccess) -> ClientAccessPublic:
    return ClientAccessPublic.of(access, svc.deps.clock.now())


# Under /v1/invitations so the gateway routes one prefix to this service (/v1/clients is clients).
clients = APIRouter(prefix="/v1/invitations/clients/{client_id}", tags=["invitations"])


@clients.get("")
async def invitation_status(
    client_id: str, caller: CurrentCaller, svc: ServiceDep
) -> ClientAccessPublic:
    """The client's invitation (a failed one shows its reason) and earlier ones."""
    cmd = commands.ShowInvitation(client_id, accountant(caller))
    access = await _run(handlers.show_invitation(cmd, svc.deps))
    return _view(svc, access)


@clients.post("", status_code=202)
async def invite(client_id: str, caller: CurrentCaller, svc: ServiceDep) -> ClientAccessPublic:
    """Invite the client; if an invitation is open, it is voided and a new one is sent."""
    cmd = commands.InviteClient(client_id, accountant(caller))
    return _view(svc, await _run(handlers.invite_client(cmd, svc.deps)))


@clients.post("/resend", status_code=202)
async def resend(client_id: str, caller: CurrentCaller, svc: ServiceDep) -> ClientAccessPublic:
    return await invite(client_id, caller, svc)


@clients.delete("", status_code=204)
async def revoke(client_id: str, caller: CurrentCaller, svc: ServiceDep) -> Response:
    cmd = commands.RevokeInvitation(client_id, accountant(caller))
    await _run(handlers.revoke_invitation(cmd, svc.deps))
    return Response(status_code=204)


@clients.post("/activation")
async def activate(client_id: str, caller: CurrentCaller, svc: ServiceDep) -> ClientAccessPublic:
    """Managed by the accountant: active now, no e-mail, the client is not told."""
    cmd = commands.ActivateClient(client_id, accountant(caller))
    return _view(svc, await _run(handlers.activate_client(cmd, svc.deps)))


invitations = APIRouter(prefix="/v1/invitations", tags=["invitations"])


@invitations.post("/accept")
async def accept(
    body: AcceptInvitationRequest, request: Request, svc: ServiceDep
) -> AcceptedPublic:
    """The client's first login: the link's token, a new password, the mobile number on record."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    address = client_address(peer, forwarded, svc.settings.gateways)
    cmd = commands.AcceptInvitation(body.token, body.password, body.mobile_phone, address)
    access = await _run(handlers.accept_invitation(cmd, svc.deps))
    login = access.login.email if access.login else access.profile.email
    return AcceptedPublic(client_id=access.client_id, login=login)


@invitations.get("/link")
async def link(token: str, request: Request, svc: ServiceDep) -> LinkPublic:
    """Public: what the link with this token opens (the token is the credential)."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    address = client_address(peer, forwarded, svc.settings.gateways)
    state, access = await _run(
        handlers.inspect_link(commands.InspectLink(token, address), svc.deps)
    )
    if access is None:
        return LinkPublic(state=state)
    if state != "valid":
        return LinkPublic(state=state, language=access.profile.language)
    office = await svc.deps.offices.profile_of(access.profile.office_id)
    return LinkPublic(
        state=state,
        language=access.profile.language,
        office_name=office.name if office else None,
        login=access.profile.email,
    )


@invitations.get("/password-policy")
async def password_policy(lang: CallerLanguage) -> PasswordPolicyPublic:
    rules = [message(code, lang.value) for code in POLICY_RULES]
    return PasswordPolicyPublic(min_length=MIN_LENGTH, max_length=MAX_LENGTH, rules=rules)


def create_app(service: Service | None = None) -> FastAPI:
    """``None``: bootstrapped from the environment, and closed with the app; a given service
    (tests) is left open."""
    svc = service or bootstrap()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.prepare()
        yield
        if service is None:
            await svc.close()

    async def mongo_ready() -> None:
        await ping(svc.runtime.db)

    app = create_service_app(
        title="Invitations",
        jwt_key=svc.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        # The client's first login carries its own credential (the link's token).
        public_routes=(
            "POST /v1/invitations/accept",
            "GET /v1/invitations/link",
            "GET /v1/invitations/password-policy",
        ),
        body_limits={"POST /v1/invitations/accept": 16 * 1024},  # token, password, phone
    )
    app.state.service = svc
    for router in (clients, invitations):
        app.include_router(router)
    return app
