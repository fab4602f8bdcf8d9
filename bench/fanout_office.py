"""The fan-out benchmark's workload: offices with a connection of every kind, clients spread over
every channel (through the clients and delivery APIs, as an office would make them), and the
documents, submitted through the ubl API or published as DocumentReady with their files stored.

Channels as the bench names them: email, sftp, onedrive, clearfacts (TransferMethod.API), agent
(pulled by the reference agent, a process per office) and manual (nothing is delivered).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.documents import BlobRef, DocumentReady, DocumentReadyPayload
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_contracts.values import DocumentKind
from portal_infra.faults.platform import (
    JWT_KEY,
    Platform,
    Run,
    connection_bodies,
)
from portal_infra.faults.scenarios import client_form

CHANNELS = ("email", "sftp", "onedrive", "clearfacts", "agent", "manual")
DELIVERED = tuple(c for c in CHANNELS if c != "manual")
ROLE = {"email": "email", "sftp": "sftp", "onedrive": "onedrive", "clearfacts": "clearfacts"}
TOPIC_CHANNEL = {"email": "email", "sftp": "sftp", "onedrive": "onedrive", "clearfacts": "api"}
SOFTWARE = {
    "email": "yuki",
    "sftp": "winbooks",
    "onedrive": "exact_online",
    "clearfacts": "clearfacts",
    "agent": "octopus",
}
METHODS = ["manual", "email", "sftp", "onedrive", "api", "agent"]


def vat_digits(n: int) -> str:
    """The n-th client's enterprise number (10 digits, a valid Belgian check)."""
    base = 4_000_000 + n
    return f"{base:08d}{97 - base % 97:02d}"


def client_channel(n: int, channels: tuple[str, ...]) -> str:
    return channels[n % len(channels)]


@dataclass
class Workload:
    """What the bench made: offices (their tokens), clients (id → channel, office) and the
    documents it submitted (id → channel)."""

    offices: list[str]
    tokens: dict[str, str] = field(default_factory=dict)  # office -> admin token
    agent_tokens: dict[str, str] = field(default_factory=dict)  # office -> agent key
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (channel, office)
    documents: dict[str, str] = field(default_factory=dict)  # document id -> channel

    def headers(self, office: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[office]}"}


async def make_offices(
    run: Run, platform: Platform, offices: int, clients: int, channels: tuple[str, ...]
) -> Workload:
    work = Workload([f"fanout-office-{i}" for i in range(offices)])
    async with httpx.AsyncClient(timeout=60) as http:
        for office in work.offices:
            caller = Caller(office_id=office, user_id="bench-admin", role=Role.ADMIN)
            work.tokens[office] = issue_token(caller, JWT_KEY)
            await _connections(http, run, platform, work, office)
        for n in range(clients):
            office = work.offices[n % offices]
            channel = client_channel(n, channels)
            add = functools.partial(_add_client, http, run, work, office, n, channel)
            answer = await _retrying(add)
            assert answer.status_code == 201, answer.text
            work.clients[answer.json()["client_id"]] = (channel, office)
    return work


async def _connections(
    http: httpx.AsyncClient, run: Run, platform: Platform, work: Workload, office: str
) -> None:
    headers = work.headers(office)
    for body in connection_bodies(platform).values():
        answer = await http.post(
            run.url("delivery") + "/v1/connections", headers=headers, json=body
        )
        assert answer.status_code == 201, answer.text
    key = await http.post(run.url("delivery") + "/v1/connections/agent/agent-keys", headers=headers)
    assert key.status_code == 201, key.text
    work.agent_tokens[office] = key.json()["token"]
    office_settings = {
        "enabled_transfer_methods": METHODS,
        "accounting_softwares": sorted(set(SOFTWARE.values())),
        "default_timing": {"when": "immediately"},
    }
    answer = await http.put(
        run.url("clients") + "/v1/settings",
        headers={**headers, "If-Match": "*"},
        json=office_settings,
    )
    assert answer.status_code == 200, answer.text


def _target(channel: str, n: int, run_id: str) -> dict[str, Any]:
    if channel == "email":
        return {"kind": "email", "sales": f"sales{n}@software-{run_id}.be"}
    if channel == "sftp":
        return {"kind": "sftp", "connection": "Kantoor", "folder": f"client{n}"}
    if channel == "onedrive":
        return {"kind": "onedrive", "folder": f"client{n}"}
    if channel == "clearfacts":
        return {"kind": "api"}
    if channel == "agent":
        return {"kind": "agent", "connection": "agent", "folder": f"client{n}"}
    return {"kind": "manual"}


async def _add_client(
    http: httpx.AsyncClient, run: Run, work: Workload, office: str, n: int, channel: str
) -> httpx.Response:
    integration: dict[str, Any] = {"target": _target(channel, n, run.run_id)}
    if channel != "manual":
        integration |= {"timing": {"when": "immediately"}, "accounting_software": SOFTWARE[channel]}
    form = client_form(n, run.run_id, vat_digits(n), integration)
    return await http.post(
        run.url("clients") + "/v1/clients?skip_vat_check=true",
        headers=work.headers(office),
        json=form,
    )


async def _retrying(call: Callable[[], Any], limit_s: float = 120) -> httpx.Response:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            answer: httpx.Response = await call()
            if answer.status_code < 500 and answer.status_code != 429:
                return answer
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the API never answered")
        await asyncio.sleep(1)


def start_agents(run: Run, work: Workload, root: Path) -> None:
    """One reference agent per office, as a process, pulling into ``root/<office>``."""
    for office, token in work.agent_tokens.items():
        token_file = run.logs / f"agent-{office}.token"
        token_file.write_text(token)
        run.start_command(
            f"agent-{office}",
            ["-m", "portal_delivery.agent", "--url", run.url("delivery"), "--dir",
             str(root / office), "--token-file", str(token_file), "--wait", "2"],
        )  # fmt: skip


class Submitter:
    """Submits ``count`` documents round-robin over the clients, ``rate`` a second (0: as fast
    as ``concurrency`` requests at once allow): through the ubl API, or ``direct``: one stored
    UBL + PDF, a DocumentReady per document published on the run's topic."""

    def __init__(self, run: Run, work: Workload, *, direct: bool, concurrency: int = 8) -> None:
        self.run, self.work, self.direct = run, work, direct
        self.concurrency = concurrency
        self.submitted = 0
        self.refused = 0
        self.issued = 0  # invoice numbers used: never the same content twice (ubl dedupes)
        self.ubl = self.pdf = b""

    async def prepare(self) -> None:
        from portal_ubl.samples import make_pdf

        self.pdf = make_pdf(text="Invoice", padding=20_000)
        if not self.direct:
            return
        from gridfs import AsyncGridFSBucket
        from pymongo import AsyncMongoClient

        self.ubl = (
            b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
            + b"<Note>x</Note>" * 300
            + b"</Invoice>"
        )
        self.mongo: AsyncMongoClient[Any] = AsyncMongoClient(self.run.env["MONGODB_URI"])
        bucket = AsyncGridFSBucket(
            self.mongo[self.run.env["DELIVERY_BLOB_DATABASE"]], bucket_name="blobs"
        )
        self.refs = [
            await _blob(bucket, self.ubl, "invoice.xml", "application/xml"),
            await _blob(bucket, self.pdf, "invoice.pdf", "application/pdf"),
        ]
        self.broker = build_broker(self.run.env["KAFKA_BOOTSTRAP_SERVERS"], client_id="fanout")
        await self.broker.start()
        self.topics = Topics(self.run.env["PORTAL_TOPIC_PREFIX"])

    async def close(self) -> None:
        if self.direct:
            await self.broker.stop()
            await self.mongo.close()

    async def submit_all(self, count: int, rate: float) -> None:
        clients = list(self.work.clients)
        slots = asyncio.Semaphore(self.concurrency)
        first, self.issued = self.issued, self.issued + count
        start = time.perf_counter()
        async with httpx.AsyncClient(timeout=60) as http:

            async def one(i: int) -> None:
                async with slots:
                    await self._one(http, clients[i % len(clients)], first + i)

            tasks = []
            for i in range(count):
                if rate > 0:
                    await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
                else:
                    await slots.acquire()  # back-pressure: no more than `concurrency` queued
                    slots.release()
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)

    async def _one(self, http: httpx.AsyncClient, client_id: str, i: int) -> None:
        channel, office = self.work.clients[client_id]
        if self.direct:
            document_id = uuid.uuid4().hex
            event = DocumentReady.new(
                office_id=office,
                payload=DocumentReadyPayload(
                    document_id=document_id,
                    client_id=client_id,
                    kind=DocumentKind.SALES_INVOICE,
                    profile="peppol-bis3",
                    ubl=self.refs[0],
                    pdf=self.refs[1],
                    pdf_beside=True,
                ),
            )
            self.work.documents[document_id] = channel
            await publish_event(self.broker, self.topics, event)
            self.submitted += 1
            return
        answer = await self._post(http, client_id, office, i)
        if answer is None:
            self.refused += 1
            return
        self.work.documents[answer["document_id"]] = channel
        self.submitted += 1

    async def _post(
        self, http: httpx.AsyncClient, client_id: str, office: str, n: int
    ) -> dict[str, Any] | None:
        from portal_ubl.samples import sample_data

        data = json.dumps(sample_data(lines=2, number=f"F-{n:07d}"))
        for _ in range(60):  # ubl learns a new client from ClientCreated: ask again meanwhile
            try:
                answer = await http.post(
                    self.run.url("ubl") + "/v1/documents",
                    headers=self.work.headers(office),
                    data={"kind": "sales_invoice", "client_id": client_id, "data": data},
                    files={"pdf": (f"F-{n}.pdf", self.pdf, "application/pdf")},
                )
                if answer.status_code in (200, 201):
                    return dict(answer.json())
                if answer.status_code == 422 and answer.json().get("code") != "client.unknown":
                    return None
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        return None


async def _blob(bucket: Any, data: bytes, name: str, media: str) -> BlobRef:
    blob_id = await bucket.upload_from_stream(name, data)
    return BlobRef(
        blob_id=str(blob_id),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        filename=name,
        media_type=media,
    )
