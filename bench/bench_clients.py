"""Clients: adds through the API next to a bare route doing the same JWT check and one insert_one,
and the client list at 100,000 clients in one office next to a bare indexed find, same server,
same run.

    uv run python bench/bench_clients.py [--adds 2000] [--concurrency 16] [--list-clients 100000]
                                         [--page-clients 10000] [--samples 200] [--probe]

Servers: MONGODB_URI / KAFKA_BOOTSTRAP_SERVERS when set, else a throwaway SecantusDB (durable,
as `make up` runs it) and Kafka. The clients API (uvicorn, as deployed) and worker run as their
own processes, the API against a fake VIES server (in this process); the bare route
(bench/bare_insert_app.py) runs under uvicorn too.

1. adds: --adds clients POSTed with --concurrency requests in flight (rules, VIES, one
   transaction: insert + outbox); then the same number of the same forms to the bare route
   (goal: the API at >= 50 % of the bare route).
2. the list's office: --list-clients rows imported through ImportValidated (the worker stores
   them in transactions of CLIENTS_IMPORT_ROWS_PER_TRANSACTION), then a third made active and a
   third inactive, spread over four groups (written directly: setup, not the service's path).
3. list: GET /v1/clients, p50 / p95 over --samples requests per shape, after the first request
   (which has the office's fences taken in the background) and once the fences are in; next to
   the same filtered + sorted page asked of the server as one bare find(...).sort(...).limit(50)
   (goal: p95 < 30 ms and <= 3x the bare find).
4. pages: the portal's list pages (portal_portal under uvicorn, calling this clients API with
   the person's token) for an office of --page-clients clients (imported and spread as in 2),
   p50 / p95 over --samples loads of each page, next to the one clients API call each page
   makes, asked directly in the same run (the page adds its groups call and the rendering).
5. --probe: how many imported clients (with their indexes and events) one transaction takes.
"""

from __future__ import annotations

import argparse
import asyncio
import html as htmllib
import pstats
import re
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from clients_import import (  # bench/, beside this script
    JWT_KEY,
    TopicReader,
    create_topics,
    import_chunks,
    remove,
    scratch,
    servers,
    service_env,
    start_worker,
    stop,
)
from pymongo import AsyncMongoClient

from portal_clients.testing.samples import client_form, vat_number
from portal_contracts.broker import build_broker, publish_event
from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.imports import ImportCommitted, ImportValidated
from portal_contracts.topics import Topics
from portal_infra.process import spawn

API_OFFICE, LIST_OFFICE, PAGES_OFFICE = "bench-api", "bench-list", "bench-pages"
PROFILED_API = """
import asyncio, cProfile, signal, sys, uvicorn
from portal_clients.entrypoints.http import create_app
server = uvicorn.Server(uvicorn.Config(create_app(), port=int(sys.argv[1]), log_level="warning"))
server.install_signal_handlers = lambda: None
async def main(profile):
    stop = lambda: setattr(server, "should_exit", True)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    profile.enable()
    await server.serve()
    profile.disable()
    profile.dump_stats(sys.argv[2])
asyncio.run(main(cProfile.Profile()))
"""
FAKE_VIES = (
    "import sys, uvicorn; from portal_clients.testing.vies_fake import FakeVies; "
    "uvicorn.run(FakeVies().app, host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)
BENCH = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def bearer(office: str, role: Role = Role.ADMIN, groups: tuple[str, ...] = ()) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="bench", role=role, groups=groups)
    return {"Authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


def uvicorn(
    app: str, port: int, env: dict[str, str], log: Path, *extra: str, profile: Path | None = None
) -> Any:
    if profile is not None:  # uvicorn re-raises SIGTERM at exit: cProfile would never write
        command = [sys.executable, "-c", PROFILED_API, str(port), str(profile)]
        return spawn(command, log, env=env)
    command = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", *extra]
    return spawn(command, log, env=env)


async def wait_ready(base: str, path: str = "/readyz") -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(600):
            try:
                if (await http.get(path)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{base} did not become ready")


# --- adds ----------------------------------------------------------------------------------------


async def adds(
    base: str, count: int, concurrency: int, first: int, *, skip_vat_check: bool = False
) -> dict[str, Any]:
    headers = bearer(API_OFFICE)
    todo = list(range(first, first + count))
    latencies: list[float] = []
    failures: list[str] = []

    async def lane(http: httpx.AsyncClient) -> None:
        while todo:
            form = client_form(todo.pop())
            if skip_vat_check:
                form["skip_vat_check"] = True
            started = time.perf_counter()
            response = await http.post("/v1/clients", json=form, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                failures.append(response.text[:200])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} adds failed, first: {failures[0]}")
    return {"per_s": round(count / elapsed), **percentiles(latencies)}


async def add_rounds(args: argparse.Namespace, api: str, bare: str) -> dict[str, Any]:
    """Rounds of --adds through the API, then through the bare route, then through the API not
    asking the register: a machine busy with other work weighs on the three alike."""
    runs: dict[str, list[dict[str, Any]]] = {"api": [], "bare": [], "api_skip": []}
    per_round = args.adds // args.rounds
    for n in range(args.rounds):
        first = 1 + n * per_round
        print(f"# adds, round {n + 1}/{args.rounds}: {per_round:,} each ...", flush=True)
        runs["api"].append(await adds(api, per_round, args.concurrency, first))
        runs["bare"].append(await adds(bare, per_round, args.concurrency, first))
        first += args.adds
        runs["api_skip"].append(
            await adds(api, per_round, args.concurrency, first, skip_vat_check=True)
        )
        print(
            f"  API {runs['api'][-1]}, bare {runs['bare'][-1]}, API without VIES {runs['api_skip'][-1]}",
            flush=True,
        )
    ratios = sorted(a["per_s"] / b["per_s"] for a, b in zip(runs["api"], runs["bare"], strict=True))
    median = statistics.median

    def summary(key: str) -> dict[str, float]:
        return {f: median(r[f] for r in runs[key]) for f in ("per_s", "p50_ms", "p95_ms")}

    return {
        f"adds: clients API ({args.concurrency} in flight, medians of {args.rounds} rounds)": summary(
            "api"
        ),
        "adds: bare route (JWT + insert_one)": summary("bare"),
        "adds: clients API with skip_vat_check (no register call)": summary("api_skip"),
        "adds: API / bare per round (goal >= 50 %)": ", ".join(f"{r:.0%}" for r in ratios),
    }


# --- the list's office ---------------------------------------------------------------------------


async def import_office(
    kafka: str, topics: Topics, count: int, office: str = LIST_OFFICE, first: int = 200_000
) -> dict[str, Any]:
    print(f"# building {count:,} import rows ...", flush=True)
    chunks = await asyncio.to_thread(import_chunks, office, office, count, first)
    await create_topics(kafka, [topics.of(ImportValidated), topics.of(ImportCommitted)])
    answers = TopicReader(kafka, topics.of(ImportCommitted))
    await answers.start()
    broker = build_broker(kafka, client_id=office)
    await broker.start()
    try:
        started = time.perf_counter()
        for chunk in chunks:
            await publish_event(broker, topics, chunk)
        parts = 1 + (count - 1) // 5_000
        seconds = await answers.until(parts, 3600, since=started, progress="ImportCommitted parts")
    finally:
        await broker.stop()
        await answers.stop()
    return {"rows": count, "chunks": len(chunks), "seconds_to_committed": round(seconds, 1)}


async def spread(db: Any, office_id: str = LIST_OFFICE) -> None:
    """A third active, a third inactive; four groups (by the client id's last hex digits)."""
    clients = db["clients"]
    office = {"office_id": office_id}
    await clients.update_many(
        {**office, "_id": {"$regex": "[0-4]$"}}, {"$set": {"status": "active"}}
    )
    await clients.update_many(
        {**office, "_id": {"$regex": "[5-9]$"}}, {"$set": {"status": "inactive"}}
    )
    for group, digits in (("g1", "0-3"), ("g2", "4-7"), ("g3", "89ab")):
        await clients.update_many(
            {**office, "_id": {"$regex": f"[{digits}].$"}}, {"$set": {"data.group_id": group}}
        )


SHAPES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "first page, by company name": ({}, ()),
    "status=active, by company name (filtered + sorted)": ({"status": "active"}, ()),
    "status=active&inactive, newest first": (
        {"status": ["active", "inactive"], "sort": "created_at", "order": "desc"},
        (),
    ),
    "group=g1, by e-mail": ({"group": "g1", "sort": "email"}, ()),
    "staff of g1+g2 (and Everyone), by reference": ({"sort": "internal_reference"}, ("g1", "g2")),
    "search 'peeters 2123' (100 matches)": ({"q": "peeters 2123"}, ()),
    "search a VAT number typed with dots": ({"q": vat_number(200_123)}, ()),
    "search an e-mail prefix": ({"q": "info+shop20012"}, ()),
}


async def list_latency(base: str, samples: int, db: Any, count: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def get(params: dict[str, Any], groups: tuple[str, ...] = ()) -> dict[str, Any]:
            role = Role.STAFF if groups else Role.ADMIN
            headers = bearer(LIST_OFFICE, role, groups)
            response = await http.get(
                "/v1/clients", params={"limit": 50, **params}, headers=headers
            )
            response.raise_for_status()
            return dict(response.json())

        started = time.perf_counter()
        await get({})
        results["first request (fences not taken yet)"] = round(
            (time.perf_counter() - started) * 1000
        )
        for _ in range(600):
            meta = await db["client_lists"].find_one({"_id": LIST_OFFICE}) or {}
            if meta.get("fenced", 0) >= count:
                break
            await asyncio.sleep(0.5)
        results["fences taken after (s)"] = round(time.perf_counter() - started, 1)
        results["healthz"] = percentiles(
            [await timed(lambda: http.get("/healthz")) for _ in range(samples)]
        )
        for name, (params, groups) in SHAPES.items():
            lat = [await timed(lambda p=params, g=groups: get(p, g)) for _ in range(samples)]
            results[name] = percentiles(lat)
            print(f"  {name}: {results[name]}", flush=True)
        walk: list[float] = []
        for _ in range(max(1, samples // 10)):
            cursor = None
            for _ in range(10):
                start = time.perf_counter()
                page = await get({"cursor": cursor} if cursor else {})
                walk.append(time.perf_counter() - start)
                cursor = page["next_cursor"]
        results["10 cursor pages in a row, by company name"] = percentiles(walk)
    return results


async def bare_finds(db: Any, samples: int) -> dict[str, Any]:
    clients = db["clients"]

    async def find(query: dict[str, Any]) -> None:
        await clients.find(query).sort("sort.company_name", 1).limit(50).to_list()

    office = {"office_id": LIST_OFFICE}
    some_id = (await clients.find_one(office, {"_id": 1}))["_id"]
    n = max(5, samples // 10)
    return {
        "find({office, status: active}).sort(name).limit(50)": percentiles(
            [await timed(lambda: find({**office, "status": "active"})) for _ in range(n)]
        ),
        "find({office}).sort(name).limit(50)": percentiles(
            [await timed(lambda: find(office)) for _ in range(n)]
        ),
        "find_one({_id})": percentiles(
            [await timed(lambda: clients.find_one({"_id": some_id})) for _ in range(samples)]
        ),
    }


async def timed(call: Any) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


# --- the portal's pages --------------------------------------------------------------------------

PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    # page -> (its URL, the clients API query that page makes)
    "active list, first page": ("/clients?view=active", {"status": "active"}),
    "inactive list, not yet invited": (
        "/clients?view=inactive&status=not_invited",
        {"status": "not_invited"},
    ),
    "active list, search 'peeters'": (
        "/clients?view=active&q=peeters",
        {"status": "active", "q": "peeters"},
    ),
    "active list, group g1, e-mail transfer": (
        "/clients?view=active&group=g1&transfer=email",
        {"status": "active", "group": "g1", "transfer_method": "email"},
    ),
}
NEXT_PAGE = re.compile(r'rel="next" href="([^"]+)"')


async def page_latency(portal: str, api: str, samples: int, page_size: int) -> dict[str, Any]:
    token = bearer(PAGES_OFFICE)["Authorization"].removeprefix("Bearer ")
    results: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=portal, timeout=60, cookies={"portal_token": token}) as web,
        httpx.AsyncClient(base_url=api, timeout=60, headers=bearer(PAGES_OFFICE)) as http,
    ):

        async def load(url: str, shows: str = '<table class="list"') -> str:
            response = await web.get(url)
            if response.status_code != 200 or shows not in response.text:  # sign-in, error
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
            return response.text

        async def call(params: dict[str, Any]) -> None:
            (
                await http.get("/v1/clients", params={"limit": page_size, **params})
            ).raise_for_status()

        await load("/clients?view=active")  # warm both up
        for name, (url, params) in PAGES.items():
            page = [await timed(lambda u=url: load(u)) for _ in range(samples)]
            direct = [await timed(lambda p=params: call(p)) for _ in range(samples)]
            results[name] = {"page": percentiles(page), "its API call": percentiles(direct)}
            print(f"  {name}: {results[name]}", flush=True)
        walk: list[float] = []
        url = "/clients?view=active"
        for _ in range(min(samples, 40)):  # "next" page after page, as a person pages through
            started = time.perf_counter()
            html = await load(url)
            walk.append(time.perf_counter() - started)
            found = NEXT_PAGE.search(html)
            url = htmllib.unescape(found.group(1)) if found else "/clients?view=active"
        results["active list, 'next' page after page"] = {"page": percentiles(walk)}
        results["dashboard (three list calls)"] = {
            "page": percentiles([await timed(lambda: load("/", "<h1")) for _ in range(samples)])
        }
    return results


async def the_pages(
    args: argparse.Namespace, api: str, kafka: str, topics: Topics, db: Any, env: dict[str, str],
    home: Path,
) -> dict[str, Any]:  # fmt: skip
    report: dict[str, Any] = {}
    count = args.page_clients
    print(f"# the pages' office: {count:,} clients through ImportValidated ...", flush=True)
    report["import for the pages"] = await import_office(
        kafka, topics, count, office=PAGES_OFFICE, first=400_000
    )
    await spread(db, PAGES_OFFICE)
    port, page_size = free_port(), 25
    portal_env = {**env, "PORTAL_WEB_CLIENTS_URL": api, "PORTAL_WEB_PAGE_SIZE": str(page_size)}
    portal = uvicorn(
        "portal_portal.entrypoints.http:create_app", port, portal_env, home / "portal.log"
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", "/healthz")
        print(f"# page loads ({args.samples} per page, {page_size} rows a page) ...", flush=True)
        report[f"portal pages at {count:,} clients"] = await page_latency(
            f"http://127.0.0.1:{port}", api, args.samples, page_size
        )
    finally:
        stop(portal)
    return report


# --- one transaction, how big --------------------------------------------------------------------


async def probe(mongodb_uri: str, sizes: list[int]) -> dict[str, str]:
    from portal_clients.bootstrap import bootstrap
    from portal_clients.config import Settings
    from portal_clients.service import imports
    from portal_servicekit.settings import PlatformSettings

    out: dict[str, str] = {}
    for size in sizes:
        platform = PlatformSettings.model_validate(
            {
                "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
                "MONGODB_URI": mongodb_uri,
                "PORTAL_JWT_KEY": JWT_KEY,
            }
        )
        database = f"bench_probe_{uuid.uuid4().hex[:6]}"
        settings = Settings(platform=platform, database=database, import_rows_per_transaction=size)
        service = bootstrap(settings)
        await service.prepare()
        chunks = await asyncio.to_thread(import_chunks, "probe", f"probe-{size}", size, 500_000)
        try:
            for chunk in chunks[:-1]:
                await imports.import_validated(chunk, service.deps)
            started = time.perf_counter()
            await imports.import_validated(chunks[-1], service.deps)
            out[f"{size:,} rows"] = f"one transaction, {time.perf_counter() - started:.1f} s in all"
        except Exception as exc:
            out[f"{size:,} rows"] = f"failed: {type(exc).__name__}: {str(exc)[:90]}"
        print(f"  {size:,}: {out[f'{size:,} rows']}", flush=True)
        await service.runtime.mongo.drop_database(database)
        await service.close()
    return out


# --- run -----------------------------------------------------------------------------------------


async def the_list(
    args: argparse.Namespace, api: str, kafka: str, topics: Topics, db: Any
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    count = args.list_clients
    print(f"# the list's office: {count:,} clients through ImportValidated ...", flush=True)
    report["import for the list"] = await import_office(kafka, topics, count)
    print(f"  {report['import for the list']}", flush=True)
    await spread(db)
    print(f"# list latency ({args.samples} samples per shape) ...", flush=True)
    report["list (HTTP)"] = await list_latency(api, args.samples, db, count)
    report["bare finds, same collection"] = bare = await bare_finds(db, args.samples)
    headline = report["list (HTTP)"]["status=active, by company name (filtered + sorted)"]
    baseline = bare["find({office, status: active}).sort(name).limit(50)"]
    ratio = headline["p95_ms"] / baseline["p95_ms"]
    report["list: filtered + sorted p95 / bare find p95 (goal <= 3x)"] = f"{ratio:.2f}x"
    return report


async def run(args: argparse.Namespace, mongodb_uri: str, kafka: str, home: Path) -> None:
    run_id = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"bench.{run_id}.")
    database = f"bench_{run_id}_clients"
    report: dict[str, Any] = {}
    if args.probe:
        print("# how many imported rows one transaction takes ...", flush=True)
        report["one transaction"] = await probe(mongodb_uri, [2_500, 5_000, 7_500, 10_000, 100_000])
    env = {**service_env(mongodb_uri, kafka, topics.prefix, database)}
    api_port, bare_port, vies_port = free_port(), free_port(), free_port()
    vies = f"http://127.0.0.1:{vies_port}"
    env |= {"CLIENTS_VIES_ENABLED": "true", "CLIENTS_VIES_ENDPOINT": vies}
    env |= {"BARE_DATABASE": f"bench_{run_id}_bare", "PORTAL_LOG_LEVEL": "WARNING"}
    processes = [
        # The register is another party: its fake answers from a process of its own.
        spawn([sys.executable, "-c", FAKE_VIES, str(vies_port)], home / "vies.log", env=env),
        uvicorn(
            "portal_clients.entrypoints.http:create_app",
            api_port,
            env,
            home / "api.log",
            profile=home / "api.prof" if args.profile else None,
        ),
        uvicorn(
            "bare_insert_app:create_app",
            bare_port,
            env,
            home / "bare.log",
            "--app-dir",
            str(BENCH),
        ),
        start_worker(env, home / "worker.log"),
    ]
    api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        await wait_ready(vies, "/docs")
        await wait_ready(api)
        await wait_ready(bare, "/healthz")
        report |= await add_rounds(args, api, bare)
        if args.list_clients:
            report |= await the_list(args, api, kafka, topics, mongo[database])
        if args.page_clients:
            report |= await the_pages(args, api, kafka, topics, mongo[database], env, home)
    finally:
        for process in processes:
            stop(process)
        if not args.keep:
            for name in (database, f"bench_{run_id}_bare"):
                await mongo.drop_database(name)
        await mongo.close()
    _print(report)


def _print(report: dict[str, Any]) -> None:
    print()
    for section, figures in report.items():
        print(f"{section}:")
        if isinstance(figures, dict):
            for key, value in figures.items():
                print(f"    {key}: {value}")
        else:
            print(f"    {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="the adds are split in rounds")
    parser.add_argument("--list-clients", type=int, default=100_000)
    parser.add_argument("--page-clients", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--probe", action="store_true", help="rows one transaction takes")
    parser.add_argument("--profile", action="store_true", help="profile the API process")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args()
    home = scratch()
    try:
        with servers(home) as (mongodb_uri, kafka):
            asyncio.run(run(args, mongodb_uri, kafka, home))
        if args.profile:
            print("\nAPI process profile (cProfile, whole run), top 30 by own time:")
            pstats.Stats(str(home / "api.prof")).sort_stats("tottime").print_stats(30)
    finally:
        if args.keep:
            print(f"# logs: {home}")
        else:
            remove(home)


if __name__ == "__main__":
    main()
