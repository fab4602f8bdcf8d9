"""`uvicorn --factory portal_delivery.entrypoints.http:create_app`: the delivery API — an office's
connections (admins), its e-mail sending identity, and the delivery ledger.

Secrets go in and never come out: a connection is answered with its settings and the names of
the secrets that are set. Another office's connection or delivery answers 404.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request, Response

from portal_delivery.bootstrap import Service, bootstrap, connection_tester
from portal_delivery.domain import pull as pulled
from portal_delivery.domain.agents import AgentKey
from portal_delivery.domain.connections import (
    Connection,
    ConnectionInvalid,
    Kind,
    admin_consent_url,
)
from portal_delivery.domain.delivery import State
from portal_delivery.entrypoints import agent_api
from portal_delivery.entrypoints.messages import MESSAGES
from portal_delivery.entrypoints.schemas import (
    AgentKeyIssued,
    AgentKeyPublic,
    ConnectionCreated,
    ConnectionIn,
    ConnectionPublic,
    DeliveryPage,
    DeliveryPublic,
    HostKeyIn,
    IdentityIn,
    IdentityPublic,
    ProbePublic,
)
from portal_delivery.ports import ConnectionKindTaken, ConnectionNameTaken, ConnectionTester, Stale
from portal_delivery.service import agent_keys, office, pull
from portal_servicekit.app import create_service_app
from portal_servicekit.identity import CallerLanguage, CurrentCaller
from portal_servicekit.mongo import ping
from portal_servicekit.preconditions import if_match_version
from portal_servicekit.problems import FieldProblem, ProblemError, message, register_messages

connections = APIRouter(prefix="/v1/connections", tags=["connections"])
deliveries = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
IfMatch = Annotated[str | None, Header()]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _version(if_match: str | None) -> int | None:
    """The version an edit is based on; ``If-Match: *`` (None) is whichever is current."""
    return if_match_version(if_match)


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def _public(request: Request, connection: Connection) -> dict[str, Any]:
    login = _service(request).settings.graph_login_url
    return {**connection.public(), "admin_consent_url": admin_consent_url(connection, login)}


def _key(key: AgentKey) -> AgentKeyPublic:
    return AgentKeyPublic(
        key_id=key.key_id, created_at=key.created_at, last_seen_at=key.last_seen_at
    )


# --- connections ---------------------------------------------------------------------------------


@connections.get("")
async def list_connections(request: Request, caller: CurrentCaller) -> list[ConnectionPublic]:
    found = await office.list_connections(caller, _service(request).deps)
    return [ConnectionPublic(**_public(request, c)) for c in found]


@connections.post("", status_code=201)
async def create_connection(
    request: Request, caller: CurrentCaller, body: ConnectionIn, response: Response
) -> ConnectionCreated:
    deps = _service(request).deps
    saved = await office.save_connection(
        caller, body.name, body.kind, body.settings, body.secrets, 0, deps
    )
    _etag(response, saved.version)
    issued = None
    if saved.kind is Kind.AGENT:  # the agent's first key, shown this once
        key, token = await agent_keys.issue_agent_key(caller, saved.name, deps)
        issued = AgentKeyIssued(**_key(key).model_dump(), token=token)
    return ConnectionCreated(**_public(request, saved), agent_key=issued)


@connections.put("/{name}")
async def replace_connection(
    request: Request,
    caller: CurrentCaller,
    name: str,
    body: ConnectionIn,
    response: Response,
    if_match: IfMatch = None,
) -> ConnectionPublic:
    saved = await office.save_connection(
        caller,
        name,
        body.kind,
        body.settings,
        body.secrets,
        _version(if_match),
        _service(request).deps,
    )
    _etag(response, saved.version)
    return ConnectionPublic(**_public(request, saved))


@connections.delete("/{name}", status_code=204)
async def delete_connection(
    request: Request, caller: CurrentCaller, name: str, if_match: IfMatch = None
) -> Response:
    await office.delete_connection(caller, name, _version(if_match), _service(request).deps)
    return Response(status_code=204)


@connections.post("/{name}/test")
async def test_connection(
    request: Request, caller: CurrentCaller, lang: CallerLanguage, name: str
) -> ProbePublic:
    deps, settings = _service(request).deps, _service(request).settings
    built: list[ConnectionTester] = []

    def tester_for(kind: Kind) -> ConnectionTester:
        built.append(connection_tester(settings, kind))
        return built[-1]

    try:
        probe = await office.test_connection(caller, name, tester_for, deps)
    finally:
        for tester in built:
            closing = getattr(tester, "aclose", None)
            if closing is not None:
                await closing()
    problem = probe.problem
    return ProbePublic(
        ok=problem is None,
        host_key_shown=probe.host_key,
        code=problem.code if problem else None,
        message=message(problem.code, lang.value) if problem else None,
    )


@connections.post("/{name}/host-key")
async def trust_host_key(
    request: Request,
    caller: CurrentCaller,
    name: str,
    body: HostKeyIn,
    response: Response,
    if_match: IfMatch = None,
) -> ConnectionPublic:
    saved = await office.trust_host_key(
        caller, name, body.host_key, _version(if_match), _service(request).deps
    )
    _etag(response, saved.version)
    return ConnectionPublic(**_public(request, saved))


@connections.post("/{name}/agent-keys", status_code=201)
async def issue_agent_key(request: Request, caller: CurrentCaller, name: str) -> AgentKeyIssued:
    key, token = await agent_keys.issue_agent_key(caller, name, _service(request).deps)
    return AgentKeyIssued(**_key(key).model_dump(), token=token)


@connections.get("/{name}/agent-keys")
async def list_agent_keys(
    request: Request, caller: CurrentCaller, name: str
) -> list[AgentKeyPublic]:
    return [_key(k) for k in await agent_keys.list_agent_keys(caller, name, _service(request).deps)]


@connections.delete("/{name}/agent-keys/{key_id}", status_code=204)
async def revoke_agent_key(
    request: Request, caller: CurrentCaller, name: str, key_id: str
) -> Response:
    await agent_keys.revoke_agent_key(caller, name, key_id, _service(request).deps)
    return Response(status_code=204)


@connections.get("/-/email-identity")
async def get_identity(request: Request, caller: CurrentCaller) -> IdentityPublic:
    identity = await office.get_identity(caller, _service(request).deps)
    settings = _service(request).settings
    if identity is None:
        return IdentityPublic(sender=settings.mail_from, display_name="", own=False)
    return IdentityPublic(sender=identity.sender, display_name=identity.display_name, own=True)


@connections.put("/-/email-identity")
async def save_identity(
    request: Request, caller: CurrentCaller, body: IdentityIn
) -> IdentityPublic:
    saved = await office.save_identity(
        caller, body.sender, body.display_name, _service(request).deps
    )
    return IdentityPublic(sender=saved.sender, display_name=saved.display_name, own=True)


# --- the ledger ----------------------------------------------------------------------------------


def _cursor(raw: str | None) -> tuple[datetime, str] | None:
    if not raw:
        return None
    try:
        at, last = json.loads(base64.urlsafe_b64decode(raw.encode()))
        return datetime.fromisoformat(at), str(last)
    except (ValueError, TypeError) as exc:
        raise ProblemError(422, "cursor.invalid") from exc


def _next_cursor(page: list[Any], limit: int) -> str | None:
    if len(page) < limit:
        return None
    last = page[-1]
    return base64.urlsafe_b64encode(
        json.dumps([last.created_at.isoformat(), last.delivery_id]).encode()
    ).decode()


@deliveries.get("")
async def list_deliveries(
    request: Request,
    caller: CurrentCaller,
    lang: CallerLanguage,
    client_id: Annotated[str | None, Query(max_length=128)] = None,
    document_id: Annotated[str | None, Query(max_length=128)] = None,
    state: Annotated[list[State] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    page = await office.list_deliveries(
        caller,
        _service(request).deps,
        client_id=client_id,
        document_id=document_id,
        states=frozenset(state) if state else None,
        after=_cursor(cursor),
        limit=limit,
    )
    return DeliveryPage(
        items=[DeliveryPublic.of(d, lang.value) for d in page],
        next_cursor=_next_cursor(page, limit),
    )


@deliveries.get("/{delivery_id}")
async def get_delivery(
    request: Request, caller: CurrentCaller, lang: CallerLanguage, delivery_id: str
) -> DeliveryPublic:
    found = await office.get_delivery(caller, delivery_id, _service(request).deps)
    return DeliveryPublic.of(found, lang.value)


@deliveries.post("/{delivery_id}/retry", status_code=202)
async def retry_delivery(
    request: Request, caller: CurrentCaller, lang: CallerLanguage, delivery_id: str
) -> DeliveryPublic:
    retried = await office.retry_delivery(caller, delivery_id, _service(request).deps)
    return DeliveryPublic.of(retried, lang.value)


# --- errors, in one place ------------------------------------------------------------------------


def _install_errors(app: FastAPI) -> None:
    register_messages(MESSAGES)

    def mapped(exc: Exception) -> ProblemError:
        if isinstance(exc, office.Forbidden):
            return ProblemError(403, "connection.admin_only")
        if isinstance(exc, office.NotFound | pull.NotYours):
            return ProblemError(404, "not_found")
        if isinstance(exc, pull.FileGone):
            return ProblemError(410, "agent.file_gone")
        if isinstance(exc, pulled.LeaseLost):
            return ProblemError(409, "agent.lease_lost")
        if isinstance(exc, pulled.NotWhatWasSent):
            return ProblemError(422, "agent.hash_mismatch")
        if isinstance(exc, ConnectionKindTaken):
            return ProblemError(409, "connection.kind_taken")
        if isinstance(exc, office.ConnectionInUse):
            return ProblemError(409, "connection.in_use", params={"clients": exc.clients})
        if isinstance(exc, office.NotRetryable):
            return ProblemError(409, "delivery.not_retryable")
        if isinstance(exc, Stale):
            return ProblemError(412, "precondition.failed")
        if isinstance(exc, ConnectionNameTaken):
            return ProblemError(
                409,
                "connection.name_taken",
                fields=[FieldProblem(field="name", code="connection.name_taken")],
            )
        assert isinstance(exc, ConnectionInvalid)  # noqa: S101 - registered for these only
        return ProblemError(
            422,
            "connection.invalid",
            fields=[FieldProblem(field=p.field, code=p.code) for p in exc.problems],
        )

    async def handler(request: Request, exc: Exception) -> Response:
        from portal_servicekit.problems import problem_response

        return problem_response(request, mapped(exc))

    for kind in (
        office.Forbidden,
        office.NotFound,
        pull.NotYours,
        pull.FileGone,
        pulled.LeaseLost,
        pulled.NotWhatWasSent,
        ConnectionKindTaken,
        office.NotRetryable,
        office.ConnectionInUse,
        Stale,
        ConnectionNameTaken,
        ConnectionInvalid,
    ):
        app.add_exception_handler(kind, handler)


def create_app(service: Service | None = None) -> FastAPI:
    owned = service is None
    chosen = service or bootstrap()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await chosen.prepare()
        yield
        if owned:
            await chosen.close()

    async def mongo_ready() -> None:
        await ping(chosen.runtime.db)

    app = create_service_app(
        title="Delivery service",
        jwt_key=chosen.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        description="An office's connections to its accounting software and the delivery ledger.",
        public_routes=agent_api.PUBLIC,  # agents authenticate with their own key, not a JWT
    )
    app.state.service = chosen
    _install_errors(app)
    app.include_router(connections)
    app.include_router(deliveries)
    app.include_router(agent_api.router)
    app.add_middleware(agent_api.AgentKeyGuard, service=chosen)  # outermost: before the body
    return app


__all__ = ["Kind", "create_app"]
