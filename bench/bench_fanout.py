"""Delivery fan-out: offices with clients on every channel, documents flowing through the whole
path, counted at the receiving side; each channel's throughput, latency and lag, every process's
CPU and RSS, and each channel's raw limit measured in the same run.

    uv run python bench/bench_fanout.py [--offices 2] [--clients 24] [--documents 600]
        [--rate 0 (docs/s, 0: as fast as possible)] [--mode ubl|direct]
        [--down sftp [--down-at 0.2] [--down-s 10]] [--compare-isolation]
        [--workers 1,2,4 [--scale sftp]] [--channels email,sftp,...] [--out bench/results]

The platform of the fault runs (``portal_infra.faults.platform``) starts its own Kafka,
SecantusDB, SMTP server and sFTP server (both in this process), the Graph and Clearfacts fakes
and one reference pull agent per office (processes), and the clients, ubl and delivery APIs and
workers (the delivery planner, scheduler and one worker per channel: its own request topic and
consumer group). Topics are made with ``--partitions`` (12, as deploy/k8s declares them).

``--mode ubl`` submits every document through the ubl API (intake data + a PDF; ubl builds the
UBL and publishes DocumentReady); ``--mode direct`` stores one UBL + PDF and publishes
DocumentReady itself, to isolate delivery. Latency: from the DocumentReady record's timestamp on
the topic to the document's last file at the receiving side. ``--down sftp`` stops the sFTP
server for ``--down-s`` once ``--down-at`` of the documents are in; ``--compare-isolation`` runs
clean, then with the fault, and prints both. ``--workers 1,2,4`` repeats the run with that many
workers of ``--scale``'s role in one consumer group.

Retries in these runs start at 2 s and a destination's breaker opens for 5 s
(DELIVERY_RETRY_BASE_S, DELIVERY_BREAKER_OPEN_S; production: 60 s, 300 s) so a backlog drains
within the run. Figures: stdout, ``<out>/fanout-<label>.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fanout_limits import Servers, raw_limits
from fanout_office import (
    CHANNELS,
    DELIVERED,
    ROLE,
    TOPIC_CHANNEL,
    Submitter,
    Workload,
    client_channel,
    make_offices,
    start_agents,
    vat_digits,
)
from fanout_report import figures, plot, print_comparison, print_run, print_scale, write_json
from fanout_watch import Progress, ReadyTimes, Receiver, Sampler

from portal_contracts.topics import Topics
from portal_infra.faults.platform import Platform, Run, start_platform, stop_platform
from portal_infra.process import stop_process

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_ENV = {
    "PORTAL_LOG_LEVEL": "WARNING",
    "DELIVERY_RETRY_BASE_S": "2",
    "DELIVERY_BREAKER_OPEN_S": "5",
    "DELIVERY_LEASE_S": "30",
}


async def measure(
    platform: Platform, args: argparse.Namespace, label: str, *, down: bool, workers: int = 1
) -> dict[str, Any]:
    """One run on fresh topics and databases; its figures."""
    channels = tuple(args.channels)
    used = {client_channel(n, channels) for n in range(args.clients)}
    roles = ["planner", "scheduler", *(ROLE[c] for c in ROLE if c in used)]
    vats = [vat_digits(n) for n in range(args.clients)]
    async with platform.run(
        "fanout",
        roles=roles,
        workers={args.scale: workers},
        clearfacts_vats=vats,
        partitions=args.partitions,
        env=BENCH_ENV,
    ) as run:
        work = await make_offices(run, platform, args.offices, args.clients, channels)
        agents = run.logs / "agents"
        if "agent" in used:
            start_agents(run, work, agents)
        submitter = Submitter(run, work, direct=args.mode == "direct")
        await submitter.prepare()
        if args.mode == "direct":
            await _routes_known(run, len(work.clients))
        receiver = Receiver(platform, run, agents)
        await _warm_up(submitter, receiver, work, args.settle_s)
        ready = ReadyTimes(run)
        sampler = Sampler(platform, run, receiver, _groups(run, used), args.partitions)
        progress = Progress(label, work, submitter)
        stop = asyncio.Event()
        watching = [
            asyncio.create_task(ready.follow(stop)),
            asyncio.create_task(sampler.loop(stop, progress)),
        ]
        fault: dict[str, float] = {}
        striking = asyncio.create_task(_fault(platform, submitter, args, fault)) if down else None
        held = _hold(run, args.scale) if args.workers_list else []
        started = time.time()
        await submitter.submit_all(args.documents, args.rate)
        if striking is not None:
            await striking
        if held:
            await _backlog_ready(sampler, work, args.scale)
            for name in held:
                run.start(name)
        await _settle(receiver, work, args.settle_s)
        await asyncio.sleep(1.5)  # a last sample of the lag, ReadyTimes catching up
        stop.set()
        await asyncio.gather(*watching)
        progress.close()
        arrivals = await asyncio.to_thread(receiver.arrivals)
        limits: dict[str, float] = {}
        if not args.no_limits:
            servers = Servers(platform, run, _ubl(run, receiver, submitter), submitter.pdf, "")
            servers.token = work.agent_tokens.get(work.offices[0], "")
            limits = await raw_limits(
                servers, run, args.raw_n, used & set(DELIVERED), work.offices[0], _a_vat(work, vats)
            )
        await submitter.close()
        report: dict[str, Any] = figures(work, ready.at, arrivals, sampler, started, limits)
        report["breakers"] = await _breakers(run)
    report |= {
        "label": label,
        "mode": args.mode,
        "rate": args.rate,
        "offices": args.offices,
        "clients": args.clients,
        "documents": args.documents,
        "refused": submitter.refused,
        "workers": {args.scale: workers},
        "partitions": args.partitions,
        "fault": fault,
        "load_after": os.getloadavg(),
    }
    return report


async def _warm_up(
    submitter: Submitter, receiver: Receiver, work: Workload, limit_s: float
) -> None:
    """One document per client first, not measured: every worker has its connections, tokens,
    folders and the Graph SDK's imports before the clock starts (a cold OneDrive worker took
    ~14 s under this machine's load for its first upload)."""
    await submitter.submit_all(len(work.clients), 0)
    await _settle(receiver, work, limit_s)
    receiver.zero()
    work.documents.clear()
    submitter.submitted = 0


async def _breakers(run: Run) -> list[dict[str, Any]]:
    """The destinations' breakers at the end (failures counted, paused until)."""
    from pymongo import AsyncMongoClient

    mongo: Any = AsyncMongoClient(run.env["MONGODB_URI"])
    try:
        found = mongo[run.env["DELIVERY_DATABASE"]]["destinations"].find({})
        return [
            {
                "destination": str(d["_id"]),
                "failures": d.get("failures"),
                "open_until": str(d.get("open_until")),
            }
            async for d in found
        ]
    finally:
        await mongo.close()


def _hold(run: Run, role: str) -> list[str]:
    """Scale-out runs: the role's workers stop (leaving their group) until its whole backlog
    waits on its topic, so the drain measures the workers alone, not the planner ahead."""
    names = [n for n in run.processes if n.partition(".")[0] == f"delivery-{role}"]
    for name in names:
        stop_process(run.processes.pop(name), timeout=15)
    return names


async def _backlog_ready(
    sampler: Sampler, work: Workload, channel: str, limit_s: float = 300
) -> None:
    expected = sum(1 for c in work.documents.values() if c == channel)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if sum(sampler.per_partition.get(channel, [])) >= expected:
            break
        await asyncio.sleep(0.5)


def _groups(run: Run, used: set[str]) -> dict[str, tuple[str, str]]:
    topics = Topics(run.env["PORTAL_TOPIC_PREFIX"])
    group = run.env["DELIVERY_CONSUMER_GROUP"]
    groups = {
        c: (topics.delivery_request(TOPIC_CHANNEL[c]), f"{group}.{ROLE[c]}")
        for c in ROLE
        if c in used
    }
    groups["planner"] = (topics.of("DocumentReady"), f"{group}.planner")
    return groups


async def _routes_known(run: Run, clients: int, limit_s: float = 60) -> None:
    """Direct mode publishes DocumentReady itself: first let delivery learn every client."""
    from pymongo import AsyncMongoClient

    mongo: Any = AsyncMongoClient(run.env["MONGODB_URI"])
    routes = mongo[run.env["DELIVERY_DATABASE"]]["client_routes"]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if await routes.count_documents({}) >= clients:
            break
        await asyncio.sleep(0.5)
    await mongo.close()


async def _fault(
    platform: Platform, submitter: Submitter, args: argparse.Namespace, fault: dict[str, float]
) -> None:
    while True:
        if submitter.submitted >= args.documents * args.down_at:
            break
        await asyncio.sleep(0.1)
    await platform.sftp_down(drop_sessions=True)
    fault["down_at"] = time.time()
    await asyncio.sleep(args.down_s)
    await platform.sftp_up()
    fault["up_at"] = time.time()


async def _settle(receiver: Receiver, work: Workload, limit_s: float) -> None:
    """Until every channel received as many documents as it was sent (or the limit)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        expected = Counter(work.documents.values())
        counts = await asyncio.to_thread(receiver.counts)
        if all(counts.get(c, 0) >= n for c, n in expected.items() if c != "manual"):
            return
        await asyncio.sleep(1)


def _ubl(run: Run, receiver: Receiver, submitter: Submitter) -> bytes:
    """The UBL the raw limits send: the one the run delivered (ubl mode builds its own)."""
    made: bytes = submitter.ubl
    if made:
        return made
    roots: list[Path] = list(receiver.roots.values())
    for root in roots:
        for path in root.rglob("*.xml") if root.exists() else []:
            return path.read_bytes()
    return b'<?xml version="1.0"?><Invoice/>'


def _a_vat(work: Workload, vats: list[str]) -> str:
    channels = [channel for channel, _ in work.clients.values()]
    return next((vats[n] for n, c in enumerate(channels) if c == "clearfacts"), vats[0])


async def main_async(args: argparse.Namespace, home: Path) -> list[dict[str, Any]]:
    platform = await start_platform(home)
    reports: list[dict[str, Any]] = []
    try:
        if args.workers_list:
            for count in args.workers_list:
                label = f"{args.scale}x{count}"
                reports.append(await measure(platform, args, label, down=False, workers=count))
                print_run(reports[-1])
            print_scale(reports, args.scale)
            return reports
        if args.compare_isolation or not args.down:
            reports.append(await measure(platform, args, "clean", down=False))
            print_run(reports[-1])
        if args.compare_isolation or args.down:
            reports.append(await measure(platform, args, "sftp-down", down=True))
            print_run(reports[-1])
        if len(reports) == 2:
            print_comparison(reports[0], reports[1])
    finally:
        await stop_platform(platform)
    return reports


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=2)
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--rate", type=float, default=0.0, help="docs/s; 0: as fast as possible")
    parser.add_argument("--mode", choices=("ubl", "direct"), default="ubl")
    parser.add_argument("--channels", type=lambda s: s.split(","), default=list(CHANNELS))
    parser.add_argument("--down", choices=("sftp",), default=None)
    parser.add_argument("--down-at", type=float, default=0.2, help="share of documents in")
    parser.add_argument("--down-s", type=float, default=10.0)
    parser.add_argument("--compare-isolation", action="store_true")
    parser.add_argument("--workers", dest="workers_list", type=_counts, default=None)
    parser.add_argument("--scale", choices=sorted(ROLE.values()), default="sftp")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--raw-n", type=int, default=200, help="documents per raw limit")
    parser.add_argument("--no-limits", action="store_true", help="skip the raw limits")
    parser.add_argument("--settle-s", type=float, default=180.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    unknown = set(args.channels) - set(CHANNELS)
    if unknown:
        parser.error(f"unknown channels {sorted(unknown)}; known: {', '.join(CHANNELS)}")
    return args


def _counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    args = parse()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        reports = asyncio.run(main_async(args, Path(tmp)))
    args.out.mkdir(parents=True, exist_ok=True)
    for report in reports:
        report["load_before"] = load_before
        stem = args.out / f"fanout-{report['label']}"
        write_json(report, stem.with_suffix(".json"))
        plot(report, stem.with_suffix(".png"))
        print(f"# figures in {stem}.json, plot in {stem}.png")


if __name__ == "__main__":
    main()
