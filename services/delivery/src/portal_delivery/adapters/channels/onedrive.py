"""The OneDrive / SharePoint channel (Microsoft Graph, app-only): the document's files in the
client's folder of the drive the office chose, under the connection's base folder.

- msgraph-sdk makes the metadata calls (the folders, ``createUploadSession``) with our token
  provider (graph_auth.py: the token only for the Graph host) and its retry middleware off: a
  429 or 503 is never slept on in the worker, it becomes ``Problem.retry_after`` and the ledger's
  scheduler brings the delivery back after ``Retry-After``.
- The content goes with plain httpx (DELIVERY.md §1.5: the SDK's content PUT and its
  ``LargeFileUploadTask`` are the weak spots): up to 4 MiB one ``PUT …/items/{folder}:/{name}:/
  content?@microsoft.graph.conflictBehavior=replace``; above, an upload session in fragments of
  ``fragment_units`` × 320 KiB, sequential, ``Content-Range`` on each, **no Authorization**
  (the ``uploadUrl`` is pre-authenticated and may be on another host).
- Conflicts are set explicitly to ``replace``: names are deterministic (the document's), so a
  retry after a crash overwrites the same file instead of adding "INV (1).pdf".
- An interrupted session resumes: a dropped fragment asks the session for
  ``nextExpectedRanges`` and goes on from there; the session's URL is noted in the ledger
  (sealed) as soon as it exists, so an attempt resumed after the worker died continues the same
  session; a session gone (404) is started again once.
- The receipt is what Graph reports: the drive item id, its size and its quickXorHash, checked
  against ours (a mismatch is retried, never recorded as sent).
- Folders are created one level at a time (``conflictBehavior: fail``, 409 = it exists, then
  read by path) and their ids kept per process.
"""

from __future__ import annotations

import asyncio
import posixpath
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.drive_item_uploadable_properties import (
    DriveItemUploadableProperties,
)
from msgraph.generated.models.folder import Folder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

with warnings.catch_warnings():  # kiota's generated builders import its own deprecated class
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph.generated.drives.item.items.item.children.children_request_builder import (
        ChildrenRequestBuilder,
    )
    from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_request_builder import (
        CreateUploadSessionRequestBuilder,
    )

from portal_delivery.adapters.channels.graph_auth import ClientCredentials
from portal_delivery.adapters.channels.quickxor import quickxor
from portal_delivery.adapters.channels.throttling import retry_after
from portal_delivery.adapters.secrets import SecretBox
from portal_delivery.domain.connections import Connection, Kind
from portal_delivery.domain.delivery import ChannelError, FileRef, Problem, Receipt
from portal_delivery.ports import Parcel, Probe

GRAPH_URL = "https://graph.microsoft.com/v1.0"
LOGIN_URL = "https://login.microsoftonline.com"
KiB, MiB = 1024, 1024 * 1024
FRAGMENT_UNIT = 320 * KiB  # every fragment but the last: a multiple of it (Graph's rule)
SMALL_LIMIT = 4 * MiB  # one PUT up to here (valid under every version of the guidance)
REPLACE = "@microsoft.graph.conflictBehavior"
ConnectionKey = tuple[str, str, int]  # office, connection, version


class _SessionGone(Exception):
    """The upload session expired or was cancelled (404): start the file over."""


@dataclass
class _Tenant:
    credentials: ClientCredentials
    graph: GraphRequestAdapter  # the SDK's request adapter with this connection's credentials
    slots: asyncio.Semaphore
    folders: dict[tuple[str, str], str] = field(default_factory=dict)  # (drive, path) → id


class OneDriveChannel:
    def __init__(
        self,
        *,
        graph_url: str = GRAPH_URL,
        login_url: str = LOGIN_URL,
        fragment_units: int = 16,
        uploads_per_tenant: int = 8,
        timeout_s: float = 60.0,
        box: SecretBox | None = None,
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.login_url = login_url
        self.fragment = fragment_units * FRAGMENT_UNIT
        self.uploads_per_tenant = uploads_per_tenant
        self.box = box
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(timeout=timeout_s, limits=limits)
        self._sdk_http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=timeout_s, limits=limits),
            options={RetryHandlerOption.get_key(): RetryHandlerOption(should_retry=False)},
        )
        self._tenants: dict[ConnectionKey, _Tenant] = {}
        # The SDK imports its model classes the first time one is read (~1,200 modules, seconds
        # of CPU): at start-up, not inside the first delivery's lease.
        DriveItem().get_field_deserializers()

    def _tenant(self, connection: Connection) -> _Tenant:
        key = (connection.office_id, connection.name.casefold(), connection.version)
        tenant = self._tenants.get(key)
        if tenant is None:
            credentials = ClientCredentials(
                self.http,
                login_url=self.login_url,
                graph_url=self.graph_url,
                tenant_id=connection.settings["tenant_id"],
                client_id=connection.settings["client_id"],
                client_secret=connection.secrets.get("client_secret", ""),
                certificate=connection.secrets.get("certificate", ""),
            )
            adapter = GraphRequestAdapter(
                BaseBearerTokenAuthenticationProvider(credentials), client=self._sdk_http
            )
            adapter.base_url = self.graph_url
            GraphServiceClient(request_adapter=adapter)  # registers the SDK's (de)serialisers
            tenant = _Tenant(credentials, adapter, asyncio.Semaphore(self.uploads_per_tenant))
            self._tenants[key] = tenant
        return tenant

    async def deliver(self, parcel: Parcel) -> Receipt:
        connection = parcel.connection
        if connection is None or connection.kind is not Kind.ONEDRIVE:
            raise ChannelError(Problem("onedrive.connection_unknown", retryable=False))
        tenant = self._tenant(connection)
        drive = connection.settings["drive_id"]
        folder = posixpath.join(connection.settings.get("base_folder", ""), parcel.delivery.folder)
        written: list[dict[str, Any]] = []
        async with tenant.slots:
            try:
                for file, data in parcel.files:  # the PDF first, the UBL last
                    item = await self._one(tenant, drive, folder, file, data, parcel)
                    written.append(self._checked(item, posixpath.join(folder, file.name), data))
            except APIError as exc:
                raise ChannelError(_sdk_problem(exc)) from exc
            except httpx.HTTPError as exc:
                raise ChannelError(Problem("onedrive.unreachable", type(exc).__name__)) from exc
        return Receipt(
            ", ".join(f"{w['path']} ({w['item_id']})" for w in written),
            {"drive": drive, "files": written},
        )

    async def _one(
        self, tenant: _Tenant, drive: str, folder: str, file: FileRef, data: bytes, parcel: Parcel
    ) -> dict[str, Any]:
        if parcel.resumed:  # a dead worker's attempt: the file may be in place already
            there = await self._existing(tenant, drive, posixpath.join(folder, file.name))
            if there is not None and _same(there, data):
                return there
        for again in (False, True):  # a folder deleted under our cache: made again, once
            parent = await self._folder(tenant, drive, folder)
            try:
                if len(data) <= SMALL_LIMIT:
                    return await self._put(tenant, drive, parent, file.name, data)
                return await self._upload(tenant, drive, parent, file, data, parcel)
            except ChannelError as exc:
                if again or exc.problem.code != "onedrive.not_found":
                    raise
                self._forget_folders(tenant, drive, folder)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- content: plain httpx ----------------------------------------------------------------

    async def _put(
        self, tenant: _Tenant, drive: str, parent: str, name: str, data: bytes
    ) -> dict[str, Any]:
        url = f"{self.graph_url}/drives/{drive}/items/{parent}:/{quote(name)}:/content"
        for fresh_token in (False, True):
            answer = await self.http.put(
                url,
                params={REPLACE: "replace"},
                content=data,
                headers={
                    "Authorization": f"Bearer {await tenant.credentials.token()}",
                    "Content-Type": "application/octet-stream",
                },
            )
            if answer.status_code == 401 and not fresh_token:
                tenant.credentials.forget()  # expired early or revoked: one new token
                continue
            if answer.status_code in (200, 201):
                item: dict[str, Any] = answer.json()
                return item
            raise ChannelError(problem_of(answer.status_code, answer.headers, _error(answer)))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _upload(
        self, tenant: _Tenant, drive: str, parent: str, file: FileRef, data: bytes, parcel: Parcel
    ) -> dict[str, Any]:
        key = f"upload_{file.role}"
        noted = parcel.noted(key)
        url = None
        if isinstance(noted, dict) and noted.get("sha256") == file.sha256:
            url = self._open(str(noted["url"]), parcel, file)  # continue the same session
        for _ in range(2):
            if url is None:
                url = await self._session(tenant, drive, parent, file.name, len(data))
                await parcel.note(
                    key, {"url": self._seal(url, parcel, file), "sha256": file.sha256}
                )
                start: int | None = 0
            else:
                start = None  # ask the session what it has
            try:
                return await self._fragments(url, data, start)
            except _SessionGone:
                url = None
        raise ChannelError(Problem("onedrive.session_lost", file.name))

    async def _fragments(self, url: str, data: bytes, start: int | None) -> dict[str, Any]:
        total, dropped = len(data), 0
        if start is None:
            start = await self._next_expected(url)
        while True:
            end = min(start + self.fragment, total) - 1
            try:
                answer = await self.http.put(
                    url,
                    content=data[start : end + 1],
                    headers={
                        "Content-Range": f"bytes {start}-{end}/{total}",
                        "Content-Type": "application/octet-stream",
                    },
                )
            except httpx.TransportError:
                dropped += 1
                if dropped > 3:
                    raise
                start = await self._next_expected(url)  # resume where the session stands
                continue
            if answer.status_code in (200, 201):
                item: dict[str, Any] = answer.json()
                return item
            if answer.status_code == 202:
                start = _first_expected(answer.json())
            elif answer.status_code == 416:  # that range arrived already
                start = await self._next_expected(url)
            elif answer.status_code == 404:
                raise _SessionGone
            else:
                raise ChannelError(problem_of(answer.status_code, answer.headers, _error(answer)))

    async def _next_expected(self, url: str) -> int:
        answer = await self.http.get(url)
        if answer.status_code == 404:
            raise _SessionGone
        if answer.status_code != 200:
            raise ChannelError(problem_of(answer.status_code, answer.headers, _error(answer)))
        return _first_expected(answer.json())

    # --- metadata: msgraph-sdk ---------------------------------------------------------------

    async def _session(self, tenant: _Tenant, drive: str, parent: str, name: str, size: int) -> str:
        # Path addressing by raw URL: the builders' templates would escape ":" and "/".
        builder = CreateUploadSessionRequestBuilder(
            tenant.graph,
            f"{self.graph_url}/drives/{drive}/items/{parent}:/{quote(name)}:/createUploadSession",
        )
        properties = DriveItemUploadableProperties(
            additional_data={REPLACE: "replace"}, file_size=size
        )
        session = await builder.post(CreateUploadSessionPostRequestBody(item=properties))
        if session is None or not session.upload_url:
            raise ChannelError(Problem("onedrive.unavailable", "no upload session"))
        return session.upload_url

    async def _folder(self, tenant: _Tenant, drive: str, path: str) -> str:
        parent, so_far = "root", ""
        for segment in [s for s in path.split("/") if s]:
            so_far = posixpath.join(so_far, segment)
            known = tenant.folders.get((drive, so_far))
            if known is None:
                known = await self._make_folder(tenant, drive, parent, segment, so_far)
                tenant.folders[(drive, so_far)] = known
            parent = known
        return parent

    async def _make_folder(
        self, tenant: _Tenant, drive: str, parent: str, name: str, path: str
    ) -> str:
        children = ChildrenRequestBuilder(
            tenant.graph, f"{self.graph_url}/drives/{drive}/items/{parent}/children"
        )
        folder = DriveItem(name=name, folder=Folder(), additional_data={REPLACE: "fail"})
        try:
            made = await children.post(folder)
        except APIError as exc:
            if exc.response_status_code != 409:
                raise
            found = await self._existing(tenant, drive, path)  # made meanwhile, or long ago
            if found is None:
                raise
            return str(found["id"])
        if made is None or not made.id:
            raise ChannelError(Problem("onedrive.unavailable", "no folder id"))
        return made.id

    async def _existing(self, tenant: _Tenant, drive: str, path: str) -> dict[str, Any] | None:
        url = f"{self.graph_url}/drives/{drive}/root:/{quote(path)}"
        answer = await self.http.get(
            url, headers={"Authorization": f"Bearer {await tenant.credentials.token()}"}
        )
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise ChannelError(problem_of(answer.status_code, answer.headers, _error(answer)))
        item: dict[str, Any] = answer.json()
        return item

    def _forget_folders(self, tenant: _Tenant, drive: str, path: str) -> None:
        for key in [k for k in tenant.folders if k[0] == drive and path.startswith(k[1])]:
            del tenant.folders[key]

    # --- proof, secrets, probe ---------------------------------------------------------------

    def _checked(self, item: dict[str, Any], path: str, data: bytes) -> dict[str, Any]:
        reported = (item.get("file") or {}).get("hashes", {}).get("quickXorHash")
        if not _same(item, data):
            raise ChannelError(
                Problem("onedrive.hash_mismatch", f"{path}: {item.get('size')} {reported}")
            )
        return {
            "path": path,
            "item_id": item.get("id"),
            "size": item.get("size"),
            "quickXorHash": reported,
        }

    def _seal(self, url: str, parcel: Parcel, file: FileRef) -> str:
        if self.box is None:
            return url
        return self.box.seal(url, context=f"upload/{parcel.delivery.delivery_id}/{file.role}")

    def _open(self, sealed: str, parcel: Parcel, file: FileRef) -> str:
        if self.box is None:
            return sealed
        return self.box.open(sealed, context=f"upload/{parcel.delivery.delivery_id}/{file.role}")

    async def probe(self, connection: Connection) -> Probe:
        """Get a token and look at the drive's base folder."""
        tenant = self._tenant(connection)
        path = str(connection.settings.get("base_folder", ""))
        try:
            found = await self._existing(tenant, connection.settings["drive_id"], path)
        except ChannelError as exc:
            return Probe(None, exc.problem)
        except httpx.HTTPError as exc:
            return Probe(None, Problem("onedrive.unreachable", type(exc).__name__))
        if found is None and path:
            return Probe(None, Problem("onedrive.not_found", path, retryable=False))
        return Probe(None, None)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self._sdk_http.aclose()


def _same(item: dict[str, Any], data: bytes) -> bool:
    hashes = (item.get("file") or {}).get("hashes", {})
    return item.get("size") == len(data) and hashes.get("quickXorHash") == quickxor(data)


def _first_expected(body: dict[str, Any]) -> int:
    ranges = body.get("nextExpectedRanges") or ["0-"]
    return int(str(ranges[0]).split("-", 1)[0])


def _error(answer: httpx.Response) -> tuple[str, str]:
    try:
        error = answer.json().get("error", {})
    except ValueError:
        return "", answer.text[:200]
    return str(error.get("code", "")), str(error.get("message", ""))[:200]


def _sdk_problem(exc: APIError) -> Problem:
    error = getattr(exc, "error", None)
    code, text = str(getattr(error, "code", "") or ""), str(getattr(error, "message", "") or "")
    return problem_of(exc.response_status_code or 0, exc.response_headers or {}, (code, text))


def problem_of(status: int, headers: Any, error: tuple[str, str]) -> Problem:
    """A Graph answer in the ledger's terms: retry (with ``Retry-After``) or fail at once."""
    code, text = error
    detail = f"{status} {code}: {text}".strip()[:300]
    if status in (429, 503):
        return Problem("onedrive.throttled", detail, retry_after=retry_after(headers))
    if status == 401:
        return Problem("onedrive.credentials_refused", detail, retryable=False)
    if status == 403:
        return Problem("onedrive.access_denied", detail, retryable=False)
    if status == 404:
        return Problem("onedrive.not_found", detail, retryable=False)
    if status == 507:
        return Problem("onedrive.drive_full", detail)
    if status in (409, 423) or status >= 500:
        return Problem("onedrive.unavailable", detail)
    return Problem("onedrive.rejected", detail, retryable=False)
