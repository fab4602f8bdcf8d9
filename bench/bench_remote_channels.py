"""The remote channels next to bare httpx in the same run: OneDrive against the local Graph fake,
and the pull agent against the delivery API, measured at the receiving side.

    uv run python bench/bench_remote_channels.py [--n 1000] [--agent-n 2000] [--pdf-kb 200]

Servers: KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI, else those of `make infra-up`, else throwaway
ones (bench_delivery.servers). Processes, as `make up` runs them: the Graph fake
(``portal_delivery.entrypoints.graph_fake``), the delivery planner, scheduler and OneDrive
worker, and the delivery API (which serves the agent API). Each document is a UBL and a PDF of
``--pdf-kb`` beside it (two files).

1. OneDrive: N documents as fast as possible → 2N files in the fake; then bare httpx PUTs of the
   same files to the same fake (a token fetched once, the folder made once) over as many
   connections as the channel uses for one tenant (DELIVERY_GRAPH_UPLOADS_PER_TENANT, 8).
   Goal: service ≥ 60 % of bare.
2. Agent: ``--agent-n`` documents planned (available to the agent), then the reference agent
   (``portal_delivery.agent.Agent``, in this process: feed, download, .part + fsync + rename,
   ack) fetches them all; then bare httpx GETs of the same files from the same API process over
   as many connections as the agent uses (8), and the same GETs written as the agent writes
   them. Goal: agent ≥ 60 % of bare GETs. Then the same number again with the agent running
   while they are published (DocumentReady → in the folder).

Figures go to stdout and ``bench/results/remote_channels.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_delivery import _blob, _progress, servers, snapshot

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import (
    AgentTarget,
    ClientCreated,
    ClientCreatedPayload,
    OneDriveTarget,
)
from portal_contracts.documents import DocumentReady, DocumentReadyPayload
from portal_contracts.topics import Topics
from portal_contracts.values import DocumentKind
from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.agent import Agent, _commit
from portal_delivery.bootstrap import bootstrap
from portal_delivery.config import Settings
from portal_delivery.domain.agents import new_key
from portal_delivery.domain.connections import Kind, build
from portal_infra.process import free_port, spawn, stop_process
from portal_servicekit.settings import PlatformSettings

OFFICE = "bench-office"
TENANT, CLIENT_ID = "00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2"
DRIVE, SECRET = "b!bench-drive", "bench-graph-client-secret-0001"
CONCURRENCY = 8  # the channel's uploads per tenant; the agent's downloads at once
RESULTS = Path(__file__).resolve().parent / "results"


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path, kafka: str, mongo: str) -> None:
        self.args, self.home = args, home
        run = uuid.uuid4().hex[:8]
        self.topics = Topics(f"bench.{run}.")
        self.graph_port, self.api_port = free_port(), free_port()
        self.graph = f"http://127.0.0.1:{self.graph_port}"
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "MONGODB_URI": mongo,
            "PORTAL_JWT_KEY": "bench-key-not-a-secret-0123456789abcdef",
            "PORTAL_TOPIC_PREFIX": self.topics.prefix,
            "PORTAL_LOG_LEVEL": "WARNING",
            "DELIVERY_DATABASE": f"bench_{run}_delivery",
            "DELIVERY_BLOB_DATABASE": f"bench_{run}_blobs",
            "DELIVERY_CONSUMER_GROUP": f"bench-{run}",
            "DELIVERY_SECRETS_KEY": new_key_text(),
            "DELIVERY_GRAPH_URL": f"{self.graph}/v1.0",
            "DELIVERY_GRAPH_LOGIN_URL": self.graph,
            "GRAPH_FAKE_CLIENT_SECRET": SECRET,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, *command: str) -> None:
        self.processes[name] = spawn(
            [sys.executable, "-m", *command], self.home / "logs" / f"{name}.log", env=self.env
        )

    def start(self) -> None:
        self.spawn(
            "graph-fake", "portal_delivery.entrypoints.graph_fake", "--port", str(self.graph_port),
            "--tenant", TENANT, "--client-id", CLIENT_ID, "--drive", DRIVE,
        )  # fmt: skip
        for role in ("planner", "scheduler", "onedrive"):
            self.spawn(f"delivery-{role}", "portal_delivery.entrypoints.worker", "--role", role)
        self.spawn(
            "delivery-api", "uvicorn", "--factory", "portal_delivery.entrypoints.http:create_app",
            "--host", "127.0.0.1", "--port", str(self.api_port), "--log-level", "warning",
        )  # fmt: skip

    def stop(self) -> None:
        for process in self.processes.values():
            stop_process(process, timeout=10)

    def settings(self) -> Settings:
        platform = PlatformSettings(
            KAFKA_BOOTSTRAP_SERVERS=self.env["KAFKA_BOOTSTRAP_SERVERS"],
            MONGODB_URI=self.env["MONGODB_URI"],
            PORTAL_JWT_KEY=self.env["PORTAL_JWT_KEY"],
            PORTAL_TOPIC_PREFIX=self.topics.prefix,
        )
        return Settings(
            platform=platform,
            database=self.env["DELIVERY_DATABASE"],
            blob_database=self.env["DELIVERY_BLOB_DATABASE"],
            secrets_key=self.env["DELIVERY_SECRETS_KEY"],
        )

    async def prepare(self) -> None:
        """The connections (OneDrive, an agent and its key) and one UBL + PDF in the blob store."""
        self.service = bootstrap(self.settings())
        await self.service.prepare()
        deps = self.service.deps
        onedrive = build(
            OFFICE, "bench-m365", Kind.ONEDRIVE,
            {"tenant_id": TENANT, "client_id": CLIENT_ID, "drive_id": DRIVE},
            {"client_secret": SECRET},
        )  # fmt: skip
        await deps.connections.save(onedrive, 0)
        await deps.connections.save(build(OFFICE, "bench-agent", Kind.AGENT, {}, {}), 0)
        key, self.token = new_key(OFFICE, "bench-agent", deps.clock.now())
        await deps.agent_keys.issue(key, self.token)
        from gridfs import AsyncGridFSBucket

        bucket = AsyncGridFSBucket(
            self.service.runtime.mongo[self.env["DELIVERY_BLOB_DATABASE"]], bucket_name="blobs"
        )
        self.ubl = (
            b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
            + b"<Note>x</Note>" * 300
            + b"</Invoice>"
        )
        self.pdf = b"%PDF-1.7\n" + os.urandom(self.args.pdf_kb * 1024)
        self.ubl_ref = await _blob(bucket, self.ubl, "invoice.xml", "application/xml")
        self.pdf_ref = await _blob(bucket, self.pdf, "invoice.pdf", "application/pdf")

    async def publish_clients(self, broker: Any) -> None:
        for i in range(10):
            for prefix, target in (
                ("onedrive", OneDriveTarget(folder=f"client-{i}")),
                ("agent", AgentTarget(connection="bench-agent", folder=f"client-{i}")),
            ):
                payload = ClientCreatedPayload(client=snapshot(f"{prefix}-{i}", target))
                await publish_event(
                    broker, self.topics, ClientCreated.new(office_id=OFFICE, payload=payload)
                )

    def ready(self, prefix: str, i: int) -> DocumentReady:
        return DocumentReady.new(
            office_id=OFFICE,
            payload=DocumentReadyPayload(
                document_id=uuid.uuid4().hex,
                client_id=f"{prefix}-{i % 10}",
                kind=DocumentKind.SALES_INVOICE,
                profile="peppol-bis3",
                ubl=self.ubl_ref,
                pdf=self.pdf_ref,
                pdf_beside=True,
            ),
        )

    async def until(self, count: Any, total: int, what: str, limit_s: float = 900) -> float:
        start, shown = time.perf_counter(), 0.0
        while (done := await count()) < total:
            if time.perf_counter() - shown >= 1.0:
                _progress(what, done, total, time.perf_counter() - start)
                shown = time.perf_counter()
            if time.perf_counter() - start > limit_s:
                raise TimeoutError(f"{what}: {done} of {total} after {limit_s} s")
            await asyncio.sleep(0.1)
        _progress(what, total, total, time.perf_counter() - start)
        print(flush=True)
        return time.perf_counter() - start

    async def drive_files(self) -> int:
        async with httpx.AsyncClient() as client:
            return int((await client.get(f"{self.graph}/_fake/stats")).json()["files"])

    async def available(self) -> int:
        return await self.service.runtime.db["deliveries"].count_documents(
            {"office_id": OFFICE, "destination_key": "bench-agent", "state": "available"}
        )


async def _less(count: Any, by: int) -> int:
    return int(await count()) - by


async def bare_put(
    bench: Bench,
    n: int,
    *,
    tenant: str = TENANT,
    client_id: str = CLIENT_ID,
    secret: str = SECRET,
    drive: str = DRIVE,
) -> float:
    """The same 2n files PUT with bare httpx into one folder of the same fake (``tenant``,
    ``client_id``, ``secret``, ``drive``: another fake's)."""
    async with httpx.AsyncClient(timeout=60) as client:
        token = (
            await client.post(
                f"{bench.graph}/{tenant}/oauth2/v2.0/token",
                data={"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": secret, "scope": "https://graph.microsoft.com/.default"},
            )
        ).json()["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        folder = await client.post(
            f"{bench.graph}/v1.0/drives/{drive}/items/root/children",
            json={"name": f"bare-{uuid.uuid4().hex[:6]}", "folder": {}},
            headers=auth,
        )
        parent = folder.json()["id"]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def uploader() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                for name, data in ((f"{i}.pdf", bench.pdf), (f"{i}.xml", bench.ubl)):
                    answer = await client.put(
                        f"{bench.graph}/v1.0/drives/{drive}/items/{parent}:/{name}:/content",
                        content=data,
                        headers={**auth, "Content-Type": "application/octet-stream"},
                    )
                    answer.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(uploader() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


async def bare_get(bench: Bench, urls: list[str], folder: Path | None) -> float:
    """The same files GET with bare httpx from the same API process; ``folder``: written as the
    agent writes them (.part, fsync, rename)."""
    headers = {"Authorization": f"Bearer {bench.token}"}
    async with httpx.AsyncClient(base_url=bench.api, headers=headers, timeout=60) as client:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)

        async def downloader() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                answer = await client.get(url)
                answer.raise_for_status()
                if folder is not None:
                    final = folder / url.replace("/", "_")
                    part = final.with_name(f".{final.name}.part")
                    data = answer.content
                    await asyncio.to_thread(part.write_bytes, data)
                    import hashlib

                    await asyncio.to_thread(
                        _commit, part, final, len(data), hashlib.sha256(data).hexdigest()
                    )

        start = time.perf_counter()
        await asyncio.gather(*(downloader() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


async def sent_urls(bench: Bench) -> list[str]:
    urls = []
    async for doc in bench.service.runtime.db["deliveries"].find(
        {"office_id": OFFICE, "channel": "agent"}, {"files": 1}
    ):
        urls += [f"/agent/v1/items/{doc['_id']}/files/{f['name']}" for f in doc["files"]]
    return urls


async def main_async(
    args: argparse.Namespace, home: Path, kafka: str, mongo: str
) -> dict[str, Any]:
    bench = Bench(args, home, kafka, mongo)
    bench.start()
    report: dict[str, Any] = {"n": args.n, "agent_n": args.agent_n, "pdf_kb": args.pdf_kb}
    async with AsyncExitStack() as stack:
        stack.callback(bench.stop)
        await bench.prepare()
        stack.push_async_callback(bench.service.close)
        broker = build_broker(kafka, client_id="bench-remote")
        await broker.start()
        stack.push_async_callback(broker.stop)
        await bench.publish_clients(broker)
        await asyncio.sleep(8)  # the workers join their groups and read the clients' settings
        # Warm-up, not timed: the request topic, the worker's first token, the clients' folders.
        for i in range(10):
            await publish_event(broker, bench.topics, bench.ready("onedrive", i))
        await bench.until(bench.drive_files, 20, "warm-up")

        n = args.n
        print(f"# OneDrive: {n} documents (UBL + {args.pdf_kb} KB PDF beside it)", flush=True)
        start = time.perf_counter()
        for i in range(n):
            await publish_event(broker, bench.topics, bench.ready("onedrive", i))
        await bench.until(lambda: _less(bench.drive_files, 20), 2 * n, "service OneDrive")
        service_onedrive = time.perf_counter() - start
        bare_onedrive = await bare_put(bench, n)
        report["onedrive"] = {
            "service_per_s": n / service_onedrive,
            "bare_per_s": n / bare_onedrive,
        }
        report["onedrive"]["ratio"] = (
            report["onedrive"]["service_per_s"] / report["onedrive"]["bare_per_s"]
        )

        m = args.agent_n
        print(f"# agent: {m} documents made available, then pulled", flush=True)
        for i in range(m):
            await publish_event(broker, bench.topics, bench.ready("agent", i))
        await bench.until(bench.available, m, "planned (available)")
        folder = home / "agent"
        agent = Agent(bench.api, bench.token, folder, concurrency=CONCURRENCY, wait_s=0)
        start = time.perf_counter()
        pulling = asyncio.create_task(agent.run(asyncio.Event(), once=True))

        async def acked() -> int:
            return agent.acknowledged

        await bench.until(acked, m, "agent pull")
        await pulling
        agent_s = time.perf_counter() - start
        await agent.aclose()
        urls = await sent_urls(bench)
        bare_s = await bare_get(bench, urls, None)
        written = home / "bare-written"
        written.mkdir()
        bare_written_s = await bare_get(bench, urls, written)
        report["agent"] = {
            "service_per_s": m / agent_s,
            "bare_per_s": m / bare_s,
            "bare_same_protocol_per_s": m / bare_written_s,
        }
        report["agent"]["ratio"] = report["agent"]["service_per_s"] / report["agent"]["bare_per_s"]

        if args.agent_e2e:
            print(f"# agent: {m} more documents published while it runs", flush=True)
            live = Agent(
                bench.api, bench.token, home / "agent-live", concurrency=CONCURRENCY, wait_s=2
            )
            stop = asyncio.Event()
            running = asyncio.create_task(live.run(stop))
            start = time.perf_counter()
            for i in range(m):
                await publish_event(broker, bench.topics, bench.ready("agent", i))

            async def live_acked() -> int:
                return live.acknowledged

            await bench.until(live_acked, m, "DocumentReady → folder")
            report["agent"]["end_to_end_per_s"] = m / (time.perf_counter() - start)
            stop.set()
            await running
            await live.aclose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--agent-n", type=int, default=2000)
    parser.add_argument("--pdf-kb", type=int, default=200)
    parser.add_argument("--no-agent-e2e", dest="agent_e2e", action="store_false")
    args = parser.parse_args()
    started: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        home = Path(tmp)
        try:
            kafka, mongo = servers(home, started)
            report = asyncio.run(main_async(args, home, kafka, mongo))
        finally:
            for process in started:
                stop_process(process)
    print()
    print("| work | service | bare client, same run | ratio (goal) |")
    print("|---|---|---|---|")
    od, ag = report["onedrive"], report["agent"]
    print(
        f"| OneDrive, {report['n']} documents (2 files) | {od['service_per_s']:.1f}/s | httpx PUT {od['bare_per_s']:.1f}/s | {od['ratio']:.0%} (≥ 60 %) |"
    )
    print(
        f"| agent pull, {report['agent_n']} documents (2 files) | {ag['service_per_s']:.1f}/s | httpx GET {ag['bare_per_s']:.1f}/s | {ag['ratio']:.0%} (≥ 60 %) |"
    )
    print(
        f"| agent, bare GET written as the agent writes (.part, fsync, rename) | | {ag['bare_same_protocol_per_s']:.1f}/s | {ag['service_per_s'] / ag['bare_same_protocol_per_s']:.0%} |"
    )
    if "end_to_end_per_s" in ag:
        print(f"| agent, DocumentReady → in the folder | {ag['end_to_end_per_s']:.1f}/s | | |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "remote_channels.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"# figures in {RESULTS / 'remote_channels.json'}")


if __name__ == "__main__":
    main()
