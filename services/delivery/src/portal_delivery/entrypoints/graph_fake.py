"""A local Microsoft Graph (and its token endpoint) for tests and `make up`: the parts of the
drive API the OneDrive channel uses, refusing what the real service refuses, and stricter where
the real one would only fail later (DELIVERY.md §1.6).

- ``POST /{tenant}/oauth2/v2.0/token``: client credentials (form), a registered client with its
  secret, or a client assertion signed by its registered certificate; scope
  ``https://graph.microsoft.com/.default``.
- ``/v1.0/drives/{drive}/…``: a bearer token this fake issued, else 401; ``root:/{path}``,
  ``items/{id}``, ``items/{parent}/children`` (folders; ``conflictBehavior: fail`` → 409),
  ``items/{parent}:/{name}:/content`` (one PUT, ``replace`` by default, ``application/
  octet-stream``), ``items/{parent}:/{name}:/createUploadSession`` (the conflict rule inside
  ``item``, else 400).
- ``/upload/{id}`` (the ``uploadUrl``, on the host name ``localhost`` while Graph is addressed
  as ``127.0.0.1``: another host): **401 when an Authorization header comes**, ``Content-Range``
  required, the same total every time, in order (a range already received → 416), every fragment
  but the last a multiple of 320 KiB, under 60 MiB; 202 + ``nextExpectedRanges``, then the item;
  ``GET`` the status, ``DELETE`` cancels, an expired session → 404.
- Files carry ``size`` and ``file.hashes.quickXorHash`` as OneDrive for Business reports them.
- Faults for tests: ``throttle(n, retry_after, status)`` answers the next n drive calls 429/503
  with ``Retry-After``; ``drop_fragment(k)`` drops the connection on the k-th fragment (no
  answer, nothing kept); ``expire_sessions()``. ``GET /_fake/files`` and ``/_fake/stats``;
  ``POST /_fake/faults`` sets the faults from another process.

Run: ``GRAPH_FAKE_CLIENT_SECRET=S python -m portal_delivery.entrypoints.graph_fake --port 8026
--root .data/onedrive --tenant T --client-id C --drive D`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import jwt
from cryptography import x509

from portal_delivery.adapters.channels.quickxor import quickxor
from portal_delivery.entrypoints.fake_http import Drop, FakeServer, Request, Response, serve

UNIT = 320 * 1024
MAX_FRAGMENT = 60 * 1024 * 1024
MAX_PUT = 250 * 1024 * 1024
SCOPE = "https://graph.microsoft.com/.default"
CONFLICT = "@microsoft.graph.conflictBehavior"
COMMIT_LOG = "commits.log"  # beside the drives' folders under --root
BAD_NAME = re.compile(r'["*:<>?/\\|\x00-\x1f\x7f]')
ITEM_PATH = re.compile(
    r"^(?P<parent>[^/:]+):/(?P<name>[^:]+):/(?P<action>content|createUploadSession)$"
)


@dataclass
class Item:
    id: str
    name: str
    parent: str | None
    drive: str
    folder: bool
    data: bytes = b""
    hash: str = ""  # quickXorHash, computed when the content is committed
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass
class Session:
    id: str
    drive: str
    parent: str
    name: str
    conflict: str
    total: int | None = None
    received: bytearray = field(default_factory=bytearray)
    expires: float = field(default_factory=lambda: time.monotonic() + 3600)


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    return Response.of(status, {"error": {"code": code, "message": message}}, **headers)


class GraphFake:
    def __init__(
        self,
        *,
        clients: dict[str, tuple[str, str]] | None = None,  # tenant → (client id, secret)
        certificates: dict[str, str] | None = None,  # client id → PEM certificate
        drives: tuple[str, ...] = ("drive-1",),
        root: Path | None = None,
        upload_host: str = "localhost",
    ) -> None:
        self.clients = dict(clients or {})
        self.certificates = dict(certificates or {})
        self.root = root
        self.upload_host = upload_host
        self.tokens: set[str] = set()
        self.items: dict[str, Item] = {}
        self.names: dict[tuple[str, str], str] = {}  # (parent id, name casefolded) → id
        self.roots: dict[str, str] = {}
        self.sessions: dict[str, Session] = {}
        self.stats: dict[str, int] = {
            "files": 0,
            "puts": 0,
            "fragments": 0,
            "sessions": 0,
            "throttled": 0,
        }
        self.requests: list[tuple[str, str, bool]] = []  # method, path, had Authorization
        self._throttle: list[tuple[int, int]] = []  # (status, retry-after s) per call to refuse
        self._refusing: tuple[float, int, int] = (0.0, 429, 1)  # until (monotonic), status, wait
        self._drop_on: int | None = None
        self.fragment_delay_s = 0.0  # slow uploads: a test can kill a worker mid-file
        self.port = 0
        for drive in drives:
            self.roots[drive] = self._new(f"root-{drive}", "root", None, drive, True).id

    # --- faults -----------------------------------------------------------------------------

    def throttle(self, times: int, retry_after: int = 1, status: int = 429) -> None:
        self._throttle += [(status, retry_after)] * times

    def refuse_for(self, seconds: float, retry_after: int = 1, status: int = 429) -> None:
        """Refuse every Graph call for ``seconds`` from now (then answer again)."""
        self._refusing = (time.monotonic() + seconds, status, retry_after)

    def drop_fragment(self, number: int) -> None:
        """Drop the connection on the ``number``-th fragment from now (1 = the next)."""
        self._drop_on = self.stats["fragments"] + number

    def expire_sessions(self) -> None:
        for session in self.sessions.values():
            session.expires = 0.0

    def files(self) -> list[dict[str, Any]]:
        return [
            {**self._item_json(i), "path": self._path(i)}
            for i in self.items.values()
            if not i.folder
        ]

    # --- dispatch ---------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        path = request.raw_path
        self.requests.append((request.method, path, "authorization" in request.headers))
        if path.startswith("/_fake/"):
            return self._control(request)
        if path.endswith("/oauth2/v2.0/token") and request.method == "POST":
            return self._token(request)
        if path.startswith("/upload/"):
            if request.method == "PUT" and self.fragment_delay_s:
                await asyncio.sleep(self.fragment_delay_s)
            return self._upload(request, path.removeprefix("/upload/"))
        if path.startswith("/v1.0/"):
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens:
                return _error(
                    401, "InvalidAuthenticationToken", "Access token is empty or invalid."
                )
            refusing_until, refused_status, refused_wait = self._refusing
            if self._throttle or time.monotonic() < refusing_until:
                status, wait = (
                    self._throttle.pop(0) if self._throttle else (refused_status, refused_wait)
                )
                self.stats["throttled"] += 1
                code, text = (
                    ("activityLimitReached", "Throttled")
                    if status == 429
                    else ("serviceNotAvailable", "The service is temporarily unavailable.")
                )
                return _error(status, code, text, **{"Retry-After": str(wait)})
            return self._graph(request, path.removeprefix("/v1.0/"))
        return _error(404, "itemNotFound", "no such route")

    def _control(self, request: Request) -> Response:
        if request.raw_path == "/_fake/files":
            return Response.of(200, self.files())
        if request.raw_path == "/_fake/stats":
            return Response.of(200, self.stats)
        if request.raw_path == "/_fake/faults" and request.method == "POST":
            faults = request.json() or {}
            if faults.get("throttle"):
                self.throttle(int(faults["throttle"]), int(faults.get("retry_after", 1)))
            # For a while, as Graph throttles a tenant: every call refused, 429 or 503.
            for key, status in (("throttle_for_s", 429), ("unavailable_for_s", 503)):
                if faults.get(key):
                    retry_after = int(faults.get("retry_after", 1))
                    self.refuse_for(float(faults[key]), retry_after, status)
            if faults.get("drop_fragment"):
                self.drop_fragment(int(faults["drop_fragment"]))
            if faults.get("expire_sessions"):
                self.expire_sessions()
            return Response(204)
        return _error(404, "itemNotFound", "no such control")

    # --- the token endpoint -----------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        tenant = request.raw_path.strip("/").split("/")[0]
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return Response.of(
                400,
                {"error": "invalid_request", "error_description": "AADSTS900144: form expected"},
            )
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        registered = self.clients.get(tenant)
        if registered is None:
            return Response.of(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        client_id, secret = registered
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return Response.of(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": "AADSTS1002012: The provided value for scope is not valid.",
                },
            )
        if form.get("client_id") != client_id:
            return Response.of(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found in the directory.",
                },
            )
        if "client_assertion" in form:
            if not self._assertion_valid(form["client_assertion"], client_id, request):
                return Response.of(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS700027: Client assertion contains an invalid signature.",
                    },
                )
        elif not secrets.compare_digest(form.get("client_secret", ""), secret):
            return Response.of(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return Response.of(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    def _assertion_valid(self, assertion: str, client_id: str, request: Request) -> bool:
        pem = self.certificates.get(client_id)
        if pem is None:
            return False
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        audience = f"http://{request.host}{request.raw_path}"
        try:
            claims = jwt.decode(assertion, key, algorithms=["PS256", "RS256"], audience=audience)  # type: ignore[arg-type]
        except jwt.PyJWTError:
            return False
        return bool(claims.get("iss") == client_id == claims.get("sub"))

    # --- the drive API ----------------------------------------------------------------------

    def _graph(self, request: Request, path: str) -> Response:
        parts = path.split("/", 2)
        if len(parts) < 3 or parts[0] != "drives" or parts[1] not in self.roots:
            return _error(404, "itemNotFound", "The drive does not exist.")
        drive, rest = parts[1], parts[2]
        if rest == "root" or rest.startswith("root:"):
            item = self._by_path(drive, unquote(rest.removeprefix("root").strip(":").strip("/")))
            if request.method != "GET" or item is None:
                return _error(404, "itemNotFound", "The resource could not be found.")
            return Response.of(200, self._item_json(item))
        if not rest.startswith("items/"):
            return _error(400, "invalidRequest", "unsupported")
        rest = rest.removeprefix("items/")
        found = ITEM_PATH.match(rest)
        if found:
            parent = self._resolve(drive, found["parent"])
            if parent is None or not parent.folder:
                return _error(404, "itemNotFound", "The parent folder does not exist.")
            name = unquote(found["name"])
            if BAD_NAME.search(name) or not name.strip():
                return _error(
                    400, "invalidRequest", "The name contains characters that are not allowed."
                )
            if found["action"] == "content" and request.method == "PUT":
                return self._put(request, drive, parent, name)
            if found["action"] == "createUploadSession" and request.method == "POST":
                return self._create_session(request, drive, parent, name)
            return _error(405, "invalidRequest", "method")
        if rest.endswith("/children") and request.method == "POST":
            parent = self._resolve(drive, rest.removesuffix("/children"))
            if parent is None or not parent.folder:
                return _error(404, "itemNotFound", "The parent folder does not exist.")
            return self._make_folder(request, drive, parent)
        item = self._resolve(drive, rest)
        if request.method == "GET" and item is not None:
            return Response.of(200, self._item_json(item))
        return _error(404, "itemNotFound", "The resource could not be found.")

    def _json_body(self, request: Request) -> Any:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise ValueError("Content-Type must be application/json")
        return request.json()

    def _make_folder(self, request: Request, drive: str, parent: Item) -> Response:
        try:
            body = self._json_body(request)
        except ValueError as exc:
            return _error(415, "invalidRequest", str(exc))
        name = str(body.get("name", ""))
        if "folder" not in body or not name or BAD_NAME.search(name):
            return _error(400, "invalidRequest", "A folder needs a valid name and a folder facet.")
        existing = self.names.get((parent.id, name.casefold()))
        if existing is not None:
            if body.get(CONFLICT, "fail") == "fail":
                return _error(409, "nameAlreadyExists", "The specified item name already exists.")
            return Response.of(200, self._item_json(self.items[existing]))
        return Response.of(
            201, self._item_json(self._new(uuid.uuid4().hex.upper(), name, parent.id, drive, True))
        )

    def _put(self, request: Request, drive: str, parent: Item, name: str) -> Response:
        if request.headers.get("content-type", "") in (
            "application/json",
            "application/x-www-form-urlencoded",
        ):
            return _error(415, "invalidRequest", "The content goes as application/octet-stream.")
        if len(request.body) > MAX_PUT:
            return _error(413, "requestTooLarge", "Use an upload session above 250 MB.")
        self.stats["puts"] += 1
        conflict = request.query.get(CONFLICT, ["replace"])[0]
        return self._commit(drive, parent, name, bytes(request.body), conflict)

    def _create_session(self, request: Request, drive: str, parent: Item, name: str) -> Response:
        try:
            body = self._json_body(request) or {}
        except ValueError as exc:
            return _error(415, "invalidRequest", str(exc))
        if CONFLICT in body:  # the common mistake: the rule goes inside "item"
            return _error(400, "invalidRequest", f"{CONFLICT} belongs inside 'item'.")
        conflict = str((body.get("item") or {}).get(CONFLICT, "fail"))
        session = Session(secrets.token_urlsafe(16), drive, parent.id, name, conflict)
        self.sessions[session.id] = session
        self.stats["sessions"] += 1
        url = f"http://{self.upload_host}:{self.port}/upload/{session.id}"
        return Response.of(200, {**self._status(session), "uploadUrl": url})

    # --- upload sessions --------------------------------------------------------------------

    def _upload(self, request: Request, session_id: str) -> Response:
        session = self.sessions.get(session_id)
        if session is None or session.expires < time.monotonic():
            self.sessions.pop(session_id, None)
            return _error(404, "itemNotFound", "The upload session was not found.")
        if "authorization" in request.headers:
            return _error(401, "unauthenticated", "Do not send Authorization to the uploadUrl.")
        if request.method == "GET":
            return Response.of(200, self._status(session))
        if request.method == "DELETE":
            del self.sessions[session_id]
            return Response(204)
        if request.method != "PUT":
            return _error(405, "invalidRequest", "method")
        return self._fragment(request, session)

    def _fragment(self, request: Request, session: Session) -> Response:
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", ""))
        if not found:
            return _error(400, "invalidRange", "Content-Range: bytes a-b/total is required.")
        start, end, total = (int(g) for g in found.groups())
        size = end - start + 1
        if session.total is not None and total != session.total:
            return _error(400, "invalidRange", "The total size changed between fragments.")
        if size != len(request.body) or size <= 0:
            return _error(400, "invalidRange", "Content-Length does not match Content-Range.")
        if size >= MAX_FRAGMENT:
            return _error(413, "requestTooLarge", "A fragment must be under 60 MiB.")
        if end < total - 1 and size % UNIT:
            return _error(400, "invalidRange", "Fragments must be a multiple of 320 KiB.")
        if start < len(session.received):
            return _error(416, "invalidRange", "That range was received already.")
        if start > len(session.received) or end >= total:
            return _error(400, "invalidRange", "Fragments go in order.")
        self.stats["fragments"] += 1
        if self._drop_on is not None and self.stats["fragments"] >= self._drop_on:
            self._drop_on = None
            raise Drop
        session.total = total
        session.received += request.body
        session.expires = time.monotonic() + 3600
        if len(session.received) < total:
            return Response.of(202, self._status(session))
        del self.sessions[session.id]
        parent = self.items[session.parent]
        return self._commit(
            session.drive, parent, session.name, bytes(session.received), session.conflict
        )

    def _status(self, session: Session) -> dict[str, Any]:
        expires = datetime.now(UTC) + timedelta(seconds=max(0, session.expires - time.monotonic()))
        return {
            "expirationDateTime": expires.isoformat(),
            "nextExpectedRanges": [f"{len(session.received)}-"],
        }

    # --- the drive's items ------------------------------------------------------------------

    def _commit(self, drive: str, parent: Item, name: str, data: bytes, conflict: str) -> Response:
        existing = self.names.get((parent.id, name.casefold()))
        if existing is not None and conflict == "fail":
            return _error(409, "nameAlreadyExists", "The specified item name already exists.")
        if existing is not None and conflict == "rename":
            stem, dot, ext = name.rpartition(".")
            name, existing = f"{stem or ext} 1{dot}{ext if stem else ''}", None
        if existing is not None:
            item, status = self.items[existing], 200
        else:
            item, status = self._new(uuid.uuid4().hex.upper(), name, parent.id, drive, False), 201
            self.stats["files"] += 1
        item.data, item.hash = data, quickxor(data)
        if self.root is not None:
            target = self.root / drive / self._path(item)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            # Every commit, a replace included: a file sent twice under one name shows here.
            with (self.root / COMMIT_LOG).open("a") as log:
                log.write(f"{drive}/{self._path(item)}\n")
        return Response.of(status, self._item_json(item))

    def _new(self, id: str, name: str, parent: str | None, drive: str, folder: bool) -> Item:
        item = Item(id, name, parent, drive, folder)
        self.items[id] = item
        if parent is not None:
            self.names[(parent, name.casefold())] = id
        return item

    def _resolve(self, drive: str, ref: str) -> Item | None:
        item = self.items.get(self.roots[drive] if ref == "root" else ref)
        return item if item is not None and item.drive == drive else None

    def _by_path(self, drive: str, path: str) -> Item | None:
        item: Item | None = self.items[self.roots[drive]]
        for segment in [s for s in path.split("/") if s]:
            assert item is not None  # noqa: S101 - checked below each step
            child = self.names.get((item.id, segment.casefold()))
            item = self.items.get(child) if child else None
            if item is None:
                return None
        return item

    def _path(self, item: Item) -> str:
        names = []
        current: Item | None = item
        while current is not None and current.parent is not None:
            names.append(current.name)
            current = self.items.get(current.parent)
        return "/".join(reversed(names))

    def _item_json(self, item: Item) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "createdDateTime": item.created,
            "parentReference": {"driveId": item.drive, "id": item.parent},
            "webUrl": f"https://contoso.sharepoint.test/{quote(self._path(item))}",
        }
        if item.folder:
            body["folder"] = {"childCount": sum(1 for (p, _) in self.names if p == item.id)}
        else:
            body["size"] = len(item.data)
            body["file"] = {
                "mimeType": "application/octet-stream",
                "hashes": {"quickXorHash": item.hash},
            }
        return body


async def start(fake: GraphFake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    server = await serve(fake.handle, host, port)
    fake.port = server.port
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--root", type=Path, default=None, help="also write the files here")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--drive", action="append", default=[])
    args = parser.parse_args(argv)
    # The client secret the fake accepts comes from the environment (not the command line).
    secret = os.environ.get("GRAPH_FAKE_CLIENT_SECRET", "")
    if not secret:
        parser.error("set GRAPH_FAKE_CLIENT_SECRET")
    clients = {args.tenant: (args.client_id, secret)}
    fake = GraphFake(clients=clients, drives=tuple(args.drive or ["drive-1"]), root=args.root)

    async def run() -> None:
        server = await start(fake, port=args.port)
        print(json.dumps({"graph_fake": f"http://127.0.0.1:{fake.port}/v1.0"}), flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(run())


if __name__ == "__main__":
    main()
