"""Each channel's raw limit in the same run: the bare client library against the same server the
service just delivered to, with the same files and the concurrency the channel allows one worker.

The functions are those of ``bench_delivery.py`` (aiosmtplib; asyncssh, plain and with the
channel's .part + fsync + rename) and ``bench_remote_channels.py`` (httpx PUT to the Graph fake;
httpx GET of the agent's files from the delivery API); Clearfacts' one is here (httpx multipart
POST of ``uploadFile`` to the Clearfacts fake, 2 at once: ``DELIVERY_CLEARFACTS_UPLOADS_PER_TOKEN``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_delivery import Bench as DeliveryBench
from bench_delivery import bare_sftp, bare_smtp
from bench_remote_channels import bare_get, bare_put

from portal_infra.faults.platform import (
    CLEARFACTS_TOKEN,
    GRAPH_CLIENT_ID,
    GRAPH_DRIVE,
    GRAPH_SECRET,
    GRAPH_TENANT,
    SFTP_PASSWORD,
    Platform,
    Run,
)


class Servers:
    """What the two benches' bare functions read off their ``bench``: the same servers and files
    as the run's."""

    until = DeliveryBench.until

    def __init__(self, platform: Platform, run: Run, ubl: bytes, pdf: bytes, token: str) -> None:
        self.platform = platform
        self.home = run.logs / "bare"
        self.home.mkdir(exist_ok=True)
        shutil.copy(platform.home / "sftp_host_key", self.home / "host_key")
        self.smtp_port, self.sftp_port = platform.smtp_port, platform.sftp_port
        self.graph = run.fake_url("graph") if "graph" in run.fake_ports else ""
        self.clearfacts = run.fake_url("clearfacts") if "clearfacts" in run.fake_ports else ""
        self.api = run.url("delivery")
        self.ubl, self.pdf, self.token = ubl, pdf, token

    def mails(self) -> int:
        return len(self.platform.mailbox.messages)


async def bare_clearfacts(servers: Servers, n: int, vat: str, concurrency: int = 2) -> float:
    query = (
        "mutation upload($vatNumber: String!, $fileName: String!, $invoiceType: "
        "InvoiceTypeArgument!) { uploadFile(vatnumber: $vatNumber, filename: $fileName, "
        "invoicetype: $invoiceType) { uuid amountOfPages } }"
    )
    headers = {"Authorization": f"Bearer {CLEARFACTS_TOKEN}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with httpx.AsyncClient(timeout=60) as client:

        async def uploader() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                variables = {"vatNumber": vat, "fileName": f"bare_{i}.xml", "invoiceType": "SALE"}
                answer = await client.post(
                    f"{servers.clearfacts}/graphql",
                    headers=headers,
                    data={"query": query, "variables": json.dumps(variables)},
                    files={"file": (f"bare_{i}.xml", servers.ubl, "application/xml")},
                )
                answer.raise_for_status()
                if answer.json().get("errors"):
                    raise RuntimeError(answer.text)

        start = time.perf_counter()
        await asyncio.gather(*(uploader() for _ in range(concurrency)))
        return time.perf_counter() - start


async def agent_urls(run: Run, office: str) -> tuple[list[str], int]:
    """The files of ``office``'s agent deliveries, and how many deliveries they are."""
    from pymongo import AsyncMongoClient

    mongo: AsyncMongoClient[Any] = AsyncMongoClient(run.env["MONGODB_URI"])
    try:
        urls, count = [], 0
        deliveries = mongo[run.env["DELIVERY_DATABASE"]]["deliveries"]
        async for doc in deliveries.find({"office_id": office, "channel": "agent"}, {"files": 1}):
            urls += [f"/agent/v1/items/{doc['_id']}/files/{f['name']}" for f in doc["files"]]
            count += 1
        return urls, count
    finally:
        await mongo.close()


async def raw_limits(
    servers: Servers, run: Run, n: int, channels: set[str], office: str, vat: str
) -> dict[str, float]:
    """Documents a second each bare client moves, ``n`` documents each (the agent: the files
    of ``office``'s agent deliveries)."""
    limits: dict[str, float] = {}
    bench: Any = servers
    if "email" in channels:
        limits["email"] = n / await bare_smtp(bench, n, 8)
        print(flush=True)
    if "sftp" in channels:
        limits["sftp"] = n / await bare_sftp(bench, n, 2, user="portal", password=SFTP_PASSWORD)
        limits["sftp_same_protocol"] = n / await bare_sftp(
            bench, n, 2, safe=True, user="portal", password=SFTP_PASSWORD
        )
    if "onedrive" in channels and servers.graph:
        limits["onedrive"] = n / await bare_put(
            bench, n, tenant=GRAPH_TENANT, client_id=GRAPH_CLIENT_ID, secret=GRAPH_SECRET,
            drive=GRAPH_DRIVE,
        )  # fmt: skip
    if "clearfacts" in channels and servers.clearfacts:
        limits["clearfacts"] = n / await bare_clearfacts(servers, n, vat)
    if "agent" in channels:
        urls, documents = await agent_urls(run, office)
        if urls:
            limits["agent"] = documents / await bare_get(bench, urls, None)
    return limits
