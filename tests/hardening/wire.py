"""Talking to an app in process and seeing how much of the request body it read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI, params
from fastapi.routing import iter_route_contexts
from starlette.types import Message, Receive, Scope, Send

from tests.hardening.apps import service_app

MiB = 1024 * 1024


class Apps:
    """The apps of the services, each started on first use and stopped at the end of the run."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.stack = AsyncExitStack()
        self.started: dict[str, FastAPI] = {}

    async def __aenter__(self) -> Apps:
        await self.stack.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stack.__aexit__(kind, exc, tb)

    async def get(self, name: str) -> FastAPI:
        if name not in self.started:
            self.started[name] = await self.stack.enter_async_context(service_app(name, self.env))
        return self.started[name]


@dataclass
class Counting:
    """An ASGI wrapper counting the body bytes the app pulled with ``receive``."""

    app: Any
    read: int = 0
    calls: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.calls += 1
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@dataclass
class Sent:
    response: httpx.Response
    read: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def code(self) -> str | None:
        code = self.problem.get("code")
        return code if isinstance(code, str) else None


async def chunks(total: int, size: int = MiB, byte: bytes = b"x") -> AsyncIterator[bytes]:
    """``total`` bytes, ``size`` at a time, made as they are sent (chunked, no Content-Length)."""
    piece = byte * size
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        yield piece if step == size else piece[:step]
        sent += step


async def send(app: FastAPI, method: str, path: str, **kwargs: Any) -> Sent:
    counting = Counting(app)
    transport = httpx.ASGITransport(app=counting)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge", timeout=120) as c:
        response = await c.request(method, path, **kwargs)
    problem: dict[str, Any] = {}
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        problem = response.json()
    return Sent(response, counting.read, problem)


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        for method in context.methods or ():
            if context.path and method != "HEAD":
                found.add((method, context.path))
    return sorted(found, key=lambda r: (r[1], r[0]))


def body_kind(app: FastAPI, method: str, template: str) -> str | None:
    """ "json" (a body model), "form" (form fields or files) or None (the route reads no body)."""
    for context in iter_route_contexts(app.routes):
        if context.path == template and method in (context.methods or ()):
            body = getattr(context, "body_field", None)
            if body is None:
                return None
            return "form" if isinstance(body.field_info, params.Form) else "json"
    raise KeyError((method, template))


async def multipart(total: int, boundary: str = "edge-boundary") -> AsyncIterator[bytes]:
    """A form whose one file part is ``total`` bytes, made as it is sent."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    async for piece in chunks(total, size=64 * 1024):
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def concrete(template: str) -> str:
    """A path the template matches: every ``{param}`` becomes ``1``."""
    return re.sub(r"\{[^}]+\}", "1", template)
