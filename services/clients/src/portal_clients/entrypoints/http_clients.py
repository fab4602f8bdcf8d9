"""/v1/clients: add, read, edit (If-Match), list, and the batch availability check."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from portal_clients.domain.listing import MAX_PAGE, ClientQuery, Cursor, SortKey
from portal_clients.domain.model import Client
from portal_clients.entrypoints.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    ClientForm,
    ClientLine,
    ClientPageOut,
    ClientPublic,
)
from portal_clients.service import clients as handlers
from portal_clients.service import office
from portal_clients.service.deps import Deps
from portal_contracts.values import ClientStatus, SubscriptionMode, TransferMethod
from portal_servicekit.identity import CurrentCaller
from portal_servicekit.preconditions import if_match_version

router = APIRouter(prefix="/v1/clients", tags=["clients"])


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


Services = Annotated[Deps, Depends(get_deps)]


def expected_version(if_match: str | None) -> int | None:
    """The version an edit is based on, from ``If-Match: "7"`` (required; ``*``: any, None)."""
    return if_match_version(if_match)


def _public(client: Client, status_code: int = 200, **headers: str) -> Response:
    """The client as ClientPublic, serialised once from its snapshot (no second validation)."""
    return Response(
        ClientPublic.of(client).model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": f'"{client.version}"', **headers},
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ClientPublic)
async def create_client(form: ClientForm, caller: CurrentCaller, deps: Services) -> Response:
    command = handlers.ClientInput(raw=form.raw(), skip_vat_check=form.skip_vat_check)
    client = await handlers.create_client(command, caller, deps)
    return _public(client, status.HTTP_201_CREATED, Location=f"/v1/clients/{client.client_id}")


@router.post("/availability", response_model=AvailabilityOut)
async def check_availability(
    body: AvailabilityIn, caller: CurrentCaller, deps: Services
) -> AvailabilityOut:
    emails, vats = await handlers.check_availability(body.emails, body.vat_numbers, caller, deps)
    return AvailabilityOut(emails=dict(emails), vat_numbers=dict(vats))


@router.get("/{client_id}", response_model=ClientPublic)
async def get_client(client_id: str, caller: CurrentCaller, deps: Services) -> Response:
    return _public(await handlers.get_client(client_id, caller, deps))


@router.put("/{client_id}", response_model=ClientPublic)
async def update_client(
    client_id: str,
    form: ClientForm,
    caller: CurrentCaller,
    deps: Services,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    version = expected_version(if_match)
    command = handlers.ClientInput(raw=form.raw(), skip_vat_check=form.skip_vat_check)
    client = await handlers.update_client(client_id, command, version, caller, deps)
    return _public(client)


@router.post("/{client_id}/archive", response_model=ClientPublic)
async def archive_client(
    client_id: str,
    caller: CurrentCaller,
    deps: Services,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Out of the lists, its data kept; its e-mail and VAT number stay its own for 30 days
    (restorable as it was), then are free for others. Archiving twice changes nothing."""
    version = expected_version(if_match)
    return _public(await handlers.archive_client(client_id, version, caller, deps))


@router.post("/{client_id}/restore", response_model=ClientPublic)
async def restore_client(
    client_id: str,
    caller: CurrentCaller,
    deps: Services,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Back in the lists as it was; 409 ``client.restore_taken`` (naming the field) when its
    e-mail or VAT number went to another client after its hold ran out."""
    version = expected_version(if_match)
    return _public(await handlers.restore_client(client_id, version, caller, deps))


@router.get("", response_model=ClientPageOut)
async def list_clients(
    caller: CurrentCaller,
    deps: Services,
    status_: Annotated[
        list[ClientStatus] | None, Query(alias="status", description="repeat for several")
    ] = None,
    group: str | None = None,
    subscription_mode: SubscriptionMode | None = None,
    transfer_method: Annotated[
        TransferMethod | None, Query(description="how the client's documents are delivered")
    ] = None,
    archived: Annotated[
        bool, Query(description="the archived clients (they are in no other list)")
    ] = False,
    q: Annotated[
        str | None, Query(max_length=100, description="name, VAT, reference, e-mail")
    ] = None,
    sort: SortKey = SortKey.COMPANY_NAME,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ClientPageOut:
    query = ClientQuery(
        office_id=caller.office_id,
        statuses=frozenset(status_) if status_ else None,
        group_id=group,
        subscription_mode=subscription_mode,
        transfer_method=transfer_method,
        archived=archived,
        text=q,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        after=Cursor.decode(cursor) if cursor else None,
    )
    page, groups = await asyncio.gather(
        handlers.list_clients(query, caller, deps), office.list_groups(caller, deps)
    )
    names = {g.group_id: g.name for g in groups}
    return ClientPageOut(
        items=[ClientLine.of(r, names) for r in page.items], next_cursor=page.next_cursor
    )
