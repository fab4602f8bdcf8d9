"""Clients created per second through the API and through ImportValidated, and list latency on
10,000 clients, next to bare PyMongo inserts and finds of the same documents, in the same run.

    uv run python bench/bench_clients.py [--n 10000] [--api-n 10000] [--concurrency 16]
                                         [--shared-ferretdb]

Uses the local Kafka (`make infra-up`, or KAFKA_BOOTSTRAP_SERVERS), or starts a throwaway broker
when none runs. By default it also starts its own
throwaway FerretDB (SQLite files in a temporary directory), because the shared one also serves
every other test run on the machine and its figures would measure them; ``--shared-ferretdb``
uses the shared one (`make infra-up`, or MONGODB_URI) instead.
Steps, on a fresh database and fresh topics:
1. the clients API runs as its own process (uvicorn, as deployed) against a fake VIES server;
   the worker (consumers, outbox relay) runs in this process;
2. API: POST --api-n (default 2,000) clients for one office with --concurrency requests in flight (rules, VIES
   lookup, VAT claim, outbox marker, client insert, list-log append each) -> clients/s;
3. import: publish ImportValidated chunks (<= 512 KB each) of --n rows for another office and
   time until ImportCommitted is on Kafka (all rows inserted hidden, flipped visible, answered),
   then until every ClientCreated of the import is relayed;
4. list: GET /v1/clients over HTTP on the imported office (--n clients, default 10,000): first
   pages, a filter, a text search, a sort, ten cursor pages; p50/p95 over --samples requests
   each, plus the cold first load and the office read directly from FerretDB (what the list
   would cost without the in-memory copy);
5. bare PyMongo on the same server: insert_one (same concurrency) and insert_many of the same
   client documents (the imported office's) into another collection, find_one by _id, and the list query (filter, sort,
   limit 51) as one find.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from clients_import import IMPORT_OFFICE, create_through_import  # bench/, beside this script
from pymongo import AsyncMongoClient

from portal_clients.adapters.documents import SUMMARY_PROJECTION
from portal_clients.adapters.mongo_clients import mongo_filter
from portal_clients.adapters.relay import MarkerRelay, kafka_publisher
from portal_clients.adapters.vies import ViesRegister
from portal_clients.bootstrap import bootstrap
from portal_clients.config import Settings
from portal_clients.domain.listing import ClientQuery
from portal_clients.domain.vat import RecheckPolicy
from portal_clients.entrypoints.worker import build
from portal_clients.testing.samples import client_form
from portal_clients.testing.vies_fake import FakeVies
from portal_contracts.broker import build_broker
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.topics import Topics
from portal_infra import ferretdb, local
from portal_infra import kafka as kafka_nodes
from portal_infra.process import ServerRecord, pid_alive, stop_process
from portal_servicekit.settings import PlatformSettings

JWT_KEY = "bench-clients-signing-key-0123456789abcdef"
API_OFFICE = "bench-api"


def server_url(env: str, name: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    record = ServerRecord.load(local.state_dir(), name)
    if record is None or not pid_alive(record.pid):
        sys.exit(f"no {name}: run `make infra-up` or set {env}")
    return record.url


def shared_kafka() -> str | None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    record = ServerRecord.load(local.state_dir(), "kafka")
    return record.url if record is not None and pid_alive(record.pid) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "n": len(ordered),
    }


async def timed(call: Any) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


def token(office: str) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="bench", role=Role.ADMIN)
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


# --- API ---------------------------------------------------------------------------------------


def start_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "portal_clients.entrypoints.http:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env={**os.environ, **env})


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the clients API did not become ready")


async def create_through_api(base: str, count: int, concurrency: int) -> dict[str, Any]:
    headers = token(API_OFFICE)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    failures: list[str] = []
    latencies: list[float] = []

    async def lane(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            start = time.perf_counter()
            response = await http.post("/v1/clients", json=client_form(n), headers=headers)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 201:
                failures.append(response.text[:200])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        start = time.perf_counter()
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} creations failed, first: {failures[0]}")
    return {
        "clients": count,
        "seconds": round(elapsed, 1),
        "clients_per_s": round(count / elapsed, 1),
        "request": percentiles(latencies),
    }


# --- list --------------------------------------------------------------------------------------


async def list_latency(base: str, samples: int, office: str) -> dict[str, Any]:
    headers = token(office)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def get(params: dict[str, Any]) -> dict[str, Any]:
            response = await http.get("/v1/clients", params=params, headers=headers)
            response.raise_for_status()
            return dict(response.json())

        cold = await timed(lambda: get({"limit": 50}))
        results["cold_first_load_ms"] = round(cold * 1000, 1)
        # The same round trip without the service's work: what the client and the machine add.
        results["healthz_baseline"] = percentiles(
            [await timed(lambda: http.get("/healthz")) for _ in range(samples)]
        )
        shapes: dict[str, dict[str, Any]] = {
            "first_page": {"limit": 50},
            "status_filter": {"limit": 50, "status": "not_invited"},
            "text_search": {"limit": 50, "q": "peeters 12"},
            "sort_created_desc": {"limit": 50, "sort": "created_at", "order": "desc"},
        }
        for name, params in shapes.items():
            lat = [await timed(lambda p=params: get(p)) for _ in range(samples)]
            results[name] = percentiles(lat)
        walk: list[float] = []
        for _ in range(max(1, samples // 10)):
            cursor = None
            for _ in range(10):
                params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
                start = time.perf_counter()
                page = await get(params)
                walk.append(time.perf_counter() - start)
                cursor = page["next_cursor"]
        results["cursor_pages"] = percentiles(walk)
    return results


async def direct_query_latency(service: Any, samples: int, office: str) -> dict[str, Any]:
    """The first page as one find on the service's own collection (filter, sort, limit 51)."""
    query = {"office_id": office}  # what the page needs read; FerretDB scans whatever the filter
    clients = service.db["clients"]

    async def find() -> None:
        cursor = clients.find(query, SUMMARY_PROJECTION)
        await cursor.sort([("sort.company_name", 1), ("_id", 1)]).limit(51).to_list()

    return percentiles([await timed(find) for _ in range(samples)])


# --- bare PyMongo ------------------------------------------------------------------------------


async def bare_pymongo(
    uri: str, database: str, concurrency: int, samples: int, office: str
) -> dict[str, Any]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = mongo[database]
    docs = await db["clients"].find({"office_id": office}).to_list()
    for doc in docs:
        doc.pop("outbox", None)
    results: dict[str, Any] = {"documents": len(docs)}

    one = db["bare_insert_one"]
    await one.create_index("data.user.email", unique=True)
    queue = list(docs)

    async def lane() -> None:
        while queue:
            await one.insert_one(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    results["insert_one_per_s"] = round(len(docs) / elapsed, 1)

    many = db["bare_insert_many"]
    await many.create_index("data.user.email", unique=True)
    start = time.perf_counter()
    for i in range(0, len(docs), 500):
        await many.insert_many(docs[i : i + 500], ordered=False)
    results["insert_many_per_s"] = round(len(docs) / (time.perf_counter() - start), 1)

    ids = [d["_id"] for d in docs]
    lat = [
        await timed(lambda i=i: many.find_one({"_id": ids[i % len(ids)]})) for i in range(samples)
    ]
    results["find_one_by_id"] = percentiles(lat)
    query = mongo_filter(ClientQuery(office_id=office, limit=50))
    query["$and"] = [c for c in query["$and"] if "visible" not in c]  # imported: still flagged

    async def list_find() -> None:
        await many.find(query).sort([("sort.company_name", 1), ("_id", 1)]).limit(51).to_list()

    results["find_list_page"] = percentiles(
        [await timed(list_find) for _ in range(max(5, samples // 10))]
    )
    await mongo.close()
    return results


# --- run ---------------------------------------------------------------------------------------


async def main(args: argparse.Namespace, mongodb: str, kafka: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    database, prefix = f"bench_clients_{run}", f"bench.{run}."
    topics = Topics(prefix)
    report: dict[str, Any] = {
        "mongodb": mongodb,
        "n_api": args.api_n,
        "n_import": args.n,
        "concurrency": args.concurrency,
    }
    async with FakeVies().running() as vies:
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "MONGODB_URI": mongodb,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": prefix,
            "CLIENTS_DATABASE": database,
            "CLIENTS_VIES_ENDPOINT": vies.endpoint,
        }
        platform = PlatformSettings.model_validate(
            {k: v for k, v in env.items() if not k.startswith("CLIENTS_")}
        )
        settings = Settings(platform=platform, database=database, vies_endpoint=vies.endpoint)
        service = bootstrap(settings, register=ViesRegister(vies.endpoint), with_broker=False)
        # Imported clients start with a pending VAT check; their re-checks (each one a client
        # write) are pushed past the run so the list is measured in a steady state.
        service.deps.recheck_policy = RecheckPolicy(first_delay=timedelta(hours=2))
        service.broker = build_broker(kafka, client_id=f"bench-clients-{run}", graceful_timeout=120)
        service.relay = MarkerRelay(service.db, kafka_publisher(service.broker, topics))
        stream = build(service)
        await stream.start()
        port = free_port()
        api = start_api(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(base)
            print(f"API: creating {args.api_n} clients ...", flush=True)
            report["api"] = await create_through_api(base, args.api_n, args.concurrency)
            print(f"  {report['api']}", flush=True)
            print(f"import: {args.n} rows through ImportValidated ...", flush=True)
            report["import"] = await create_through_import(service, kafka, topics, args.n)
            print(f"  {report['import']}", flush=True)
            print("list latency ...", flush=True)
            # The list and the bare comparison use the imported office: --n clients in one office.
            report["list_http"] = await list_latency(base, args.samples, IMPORT_OFFICE)
            report["list_direct_ferretdb_query"] = await direct_query_latency(
                service, 10, IMPORT_OFFICE
            )
            print("bare PyMongo ...", flush=True)
            report["bare_pymongo"] = await bare_pymongo(
                mongodb, database, args.concurrency, args.samples, IMPORT_OFFICE
            )
        finally:
            api.terminate()
            api.wait(timeout=30)
            await stream.stop()
            if not args.keep:
                await service.mongo.drop_database(database)
            await service.close()
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=10_000, help="rows imported through ImportValidated"
    )
    parser.add_argument("--api-n", type=int, default=2_000, help="clients created through the API")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--shared-ferretdb", action="store_true", help="use the shared FerretDB")
    arguments = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-clients-"))
    started: list[subprocess.Popen[bytes]] = []
    try:
        if arguments.shared_ferretdb:
            uri = server_url("MONGODB_URI", "ferretdb")
        else:
            node = ferretdb.new_node(home / "ferretdb", in_memory=False)
            started.append(ferretdb.start_and_wait(node))
            uri = node.uri
        kafka_url = shared_kafka()
        if kafka_url is None:  # none running: a throwaway broker for this run
            broker_node = kafka_nodes.new_node(home / "kafka")
            started.append(kafka_nodes.start_and_wait(broker_node))
            kafka_url = broker_node.bootstrap
        result = asyncio.run(main(arguments, uri, kafka_url))
    finally:
        for process in started:
            stop_process(process)
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(result, indent=2))
