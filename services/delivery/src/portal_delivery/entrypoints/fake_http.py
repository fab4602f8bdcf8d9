"""A small HTTP/1.1 server (h11 on asyncio) for the local fakes of remote APIs (Graph,
Clearfacts): keep-alive, whole bodies, and one thing an ASGI server cannot do — drop a
connection in the middle of a request, as a broken network does, so the channels' resume paths
are exercised for real. 127.0.0.1 only; development and tests, never production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11

logger = logging.getLogger(__name__)
MAX_BODY = 80 * 1024 * 1024


@dataclass
class Request:
    method: str
    raw_path: str  # percent-encoded, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    host: str

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, payload: Any, **headers: str) -> Response:
        return cls(
            status, json.dumps(payload).encode(), {"content-type": "application/json", **headers}
        )


class Drop(Exception):
    """Raised by a handler: close the connection without an answer (a network failure)."""


Handler = Callable[[Request], Awaitable[Response]]


async def _serve_connection(
    handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
    try:
        while True:
            request = await _read_request(conn, reader)
            if request is None:
                return
            try:
                response = await handler(request)
            except Drop:
                return
            except Exception:
                logger.exception("fake: %s %s failed", request.method, request.raw_path)
                response = Response.of(500, {"error": {"code": "generalException"}})
            headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
            headers.append((b"content-length", str(len(response.body)).encode()))
            writer.write(conn.send(h11.Response(status_code=response.status, headers=headers)))
            writer.write(conn.send(h11.Data(data=response.body)) if response.body else b"")
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(256 * 1024)
            conn.receive_data(data)
            if not data and conn.their_state is not h11.DONE:
                return h11.ConnectionClosed()
            continue
        return event


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
    event = await _next(conn, reader)
    if not isinstance(event, h11.Request):
        return None
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
    chunks: list[bytes] = []
    size = 0
    while True:
        part = await _next(conn, reader)
        if isinstance(part, h11.Data):
            size += len(part.data)
            if size > MAX_BODY:
                return None
            chunks.append(bytes(part.data))
        elif isinstance(part, h11.EndOfMessage):
            break
        else:
            return None
    target = urlsplit(event.target.decode("latin-1"))
    return Request(
        event.method.decode(),
        target.path,
        parse_qs(target.query, keep_blank_values=True),
        headers,
        b"".join(chunks),
        headers.get("host", ""),
    )


class FakeServer:
    """The listening socket and its open connections (``close`` ends both, so no connection task
    is left to be cancelled mid-read when a test's loop stops)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None  # noqa: S101 - started before use
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.close()

    async def wait_closed(self) -> None:
        if self.tasks:  # the connections notice their closed sockets and end
            await asyncio.wait(set(self.tasks), timeout=2)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()


async def serve(handler: Handler, host: str, port: int) -> FakeServer:
    fake = FakeServer()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fake.writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            fake.tasks.add(task)
        try:
            await _serve_connection(handler, reader, writer)
        finally:
            fake.writers.discard(writer)
            if task is not None:
                fake.tasks.discard(task)

    fake.server = await asyncio.start_server(on_connection, host, port, limit=1024 * 1024)
    return fake
