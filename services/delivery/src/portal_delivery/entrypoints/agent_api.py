"""The agent API, `/agent/v1/…` (served by the delivery API; the gateway routes the prefix): what
an office's agent (the program on its server that fetches documents) calls, authenticated by its
agent key (``Authorization: Bearer pda_…``), never by a portal user's token.

- ``GET /agent/v1/feed?cursor=&limit=&wait=`` leases what is available to the key's connection,
  oldest first, and answers each item with its lease token, where it goes (the folder) and its
  files (name, size, sha256, media type, download URL); ``wait`` (≤ 30 s) long-polls.
- ``GET /agent/v1/items/{id}/files/{name}``: the bytes, with ``ETag`` (the sha256),
  ``Repr-Digest`` (RFC 9530) and ``Range`` / ``If-Range`` (RFC 9110 §14: a dropped download
  resumes).
- ``POST /agent/v1/items/{id}/ack`` ``{lease_token, files: [{name, path, sha256}]}``: the item
  is sent (the sha256 the agent read back must be the document's); repeated, it changes nothing.
- ``POST /agent/v1/acks`` ``{items: [{item_id, lease_token, files}]}``: a page of acks in one
  request (one read, one transaction); each item's outcome in the answer.
- ``POST /agent/v1/items/{id}/nack`` ``{lease_token, reason}``: the agent could not write it;
  tried again later.

Another office's item, or another connection's, answers 404; a revoked key 401 at once.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from portal_delivery.bootstrap import Service
from portal_delivery.domain.agents import AgentKey
from portal_delivery.service import pull
from portal_servicekit.problems import ProblemError, problem_response

router = APIRouter(prefix="/agent/v1", tags=["agent"])
PUBLIC = (  # not a portal user's JWT: the edge lets them through, the agent key is checked here
    "GET /agent/v1/feed",
    "GET /agent/v1/items/{item_id}/files/{name}",
    "POST /agent/v1/items/{item_id}/ack",
    "POST /agent/v1/items/{item_id}/nack",
    "POST /agent/v1/acks",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}  # RFC 9110 §11.6.1, as the edge answers
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


class AgentKeyGuard:
    """The edge's rule for ``/agent/v1``: the agent's key is checked before one byte of the body
    is read (FastAPI reads a body before it resolves dependencies), every request — so a revoked
    key is refused at its next one. 401 ``auth.missing`` / ``auth.invalid`` as the edge answers."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(router.prefix + "/"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        key = None
        if scheme.lower() == "bearer" and token.strip():
            key = await self.service.deps.agent_keys.verify(token.strip())
        if key is None:
            code = (
                "auth.invalid" if scheme.lower() == "bearer" and token.strip() else "auth.missing"
            )
            answer = problem_response(Request(scope), ProblemError(401, code, headers=_CHALLENGE))
            await answer(scope, receive, send)
            return
        scope.setdefault("state", {})["agent_key"] = key
        await self.app(scope, receive, send)


async def current_agent(request: Request) -> AgentKey:
    key = getattr(request.state, "agent_key", None)
    if not isinstance(key, AgentKey):  # the guard runs before every agent route
        raise ProblemError(401, "auth.missing", headers=_CHALLENGE)
    return key


Agent = Annotated[AgentKey, Depends(current_agent)]


class FeedFile(BaseModel):
    name: str
    size: int
    sha256: str
    media_type: str
    url: str


class FeedItem(BaseModel):
    item_id: str
    lease_token: str
    lease_expires_at: datetime
    folder: str
    kind: str
    files: list[FeedFile]  # in the order to write them: the PDF before the UBL


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str | None


class AckFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    path: str = Field(default="", max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Ack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_token: str = Field(min_length=8, max_length=200)
    files: list[AckFile] = Field(max_length=10)


class AckItem(Ack):
    item_id: str = Field(max_length=64)


class Acks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AckItem] = Field(min_length=1, max_length=200)


class AckOutcomes(BaseModel):
    items: dict[str, str]  # item id → its state, or lease_lost / hash_mismatch / not_found


class Nack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_token: str = Field(min_length=8, max_length=200)
    reason: str = Field(max_length=300)


class ItemState(BaseModel):
    item_id: str
    state: str


def _cursor(raw: str | None) -> tuple[datetime, str] | None:
    if not raw:
        return None
    try:
        at, last = json.loads(base64.urlsafe_b64decode(raw.encode()))
        return datetime.fromisoformat(at), str(last)
    except (ValueError, TypeError) as exc:
        raise ProblemError(422, "cursor.invalid") from exc


@router.get("/feed")
async def feed(
    request: Request,
    agent: Agent,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
) -> FeedPage:
    leased = await pull.feed(
        agent, _service(request).deps, after=_cursor(cursor), limit=limit, wait_s=wait
    )
    items = [
        FeedItem(
            item_id=item.delivery.delivery_id,
            lease_token=item.lease_token,
            lease_expires_at=item.delivery.due_at or datetime.min,
            folder=item.folder,
            kind=item.delivery.kind.value,
            files=[
                FeedFile(
                    name=f.name,
                    size=f.size,
                    sha256=f.sha256,
                    media_type=f.media_type,
                    url=f"/agent/v1/items/{item.delivery.delivery_id}/files/{f.name}",
                )
                for f in item.delivery.files
            ],
        )
        for item in leased
    ]
    last = leased[-1].delivery if leased else None
    next_cursor = None
    if last is not None and len(leased) == limit:
        since = leased[-1].since.isoformat()
        next_cursor = base64.urlsafe_b64encode(
            json.dumps([since, last.delivery_id]).encode()
        ).decode()
    return FeedPage(items=items, next_cursor=next_cursor)


@router.get("/items/{item_id}/files/{name}")
async def download(
    request: Request,
    agent: Agent,
    item_id: str,
    name: str,
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Response:
    file, data = await pull.download(agent, item_id, name, _service(request).deps)
    etag = f'"{file.sha256}"'  # the bytes were checked against it when read
    digest = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    headers = {
        "ETag": etag,
        "Repr-Digest": f"sha-256=:{digest}:",
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
    }
    span = _range(range_, len(data)) if range_ and (if_range in (None, etag)) else None
    if span is None:
        return Response(data, media_type=file.media_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], 206, media_type=file.media_type, headers=headers)


def _range(header: str, size: int) -> tuple[int, int] | None:
    """One byte range (RFC 9110 §14.1.2); several ranges are served whole (allowed)."""
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise ProblemError(416, "agent.range_invalid", headers={"Content-Range": f"bytes */{size}"})
    return start, end


@router.post("/items/{item_id}/ack")
async def acknowledge(request: Request, agent: Agent, item_id: str, body: Ack) -> ItemState:
    done = await pull.acknowledge(
        agent,
        item_id,
        body.lease_token,
        [f.model_dump() for f in body.files],
        _service(request).deps,
    )
    return ItemState(item_id=item_id, state=done.state.value)


@router.post("/acks")
async def acknowledge_all(request: Request, agent: Agent, body: Acks) -> AckOutcomes:
    acks = [
        pull.Ack(i.item_id, i.lease_token, [f.model_dump() for f in i.files]) for i in body.items
    ]
    return AckOutcomes(items=await pull.acknowledge_all(agent, acks, _service(request).deps))


@router.post("/items/{item_id}/nack", status_code=202)
async def refuse(request: Request, agent: Agent, item_id: str, body: Nack) -> ItemState:
    done = await pull.refuse(agent, item_id, body.lease_token, body.reason, _service(request).deps)
    return ItemState(item_id=item_id, state=done.state.value)
