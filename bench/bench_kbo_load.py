"""Loading the KBO register: a synthetic full extract of ``--rows`` enterprises (the official
layout, zipped), then an update deleting and inserting 1 % of them, then ``--lookups`` register
checks; on a throwaway durable SecantusDB (``--sync-on-commit``, as `make up` runs it) that the
bench starts and stops, or on MONGODB_URI when set (a fresh database, dropped afterwards).

    uv run python bench/bench_kbo_load.py [--rows 200000] [--lookups 2000]

The real full extract holds about two million enterprises (``enterprise.csv``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import statistics
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from portal_clients.adapters.kbo_register import KboRegister
from portal_clients.adapters.mongo_kbo import MongoKbo
from portal_clients.domain.kbo import ENTERPRISE_COLUMNS
from portal_clients.entrypoints.load_kbo import Progress, load_extract
from portal_infra import mongodb
from portal_infra.process import stop_process


def _number(n: int) -> str:
    base = 2_000_000 + n
    digits = f"{base:08d}{97 - base % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def _csv(header: tuple[str, ...], rows: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _extract(path: Path, number: int, kind: str, rows: range, deleted: range = range(0)) -> Path:
    enterprises = [
        (_number(n), "AC", "012" if n % 50 == 0 else "000", "2", "610", "", "01-01-2001")
        for n in rows
    ]
    meta = [("SnapshotDate", "01-11-2026"), ("ExtractType", kind), ("ExtractNumber", str(number))]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.csv", _csv(("Variable", "Value"), meta))
        if kind == "full":
            zf.writestr("enterprise.csv", _csv(ENTERPRISE_COLUMNS, enterprises))
        else:
            zf.writestr(
                "enterprise_delete.csv",
                _csv(("EnterpriseNumber",), [(_number(n),) for n in deleted]),
            )
            zf.writestr("enterprise_insert.csv", _csv(ENTERPRISE_COLUMNS, enterprises))
    return path


async def run(uri: str, rows: int, lookups: int, work: Path) -> None:
    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True)
    db = client[f"bench_kbo_{uuid.uuid4().hex[:8]}"]
    store = MongoKbo(db)
    try:
        await store.prepare()
        full = _extract(work / "full.zip", 1, "full", range(rows))
        started = time.perf_counter()
        _, counts = await load_extract(full, store, progress=Progress(every_s=10))
        took = time.perf_counter() - started
        print(f"full extract, {rows:,} rows: {took:.1f} s ({rows / took:,.0f} rows/s) {counts}")
        share = max(1, rows // 100)
        update = _extract(
            work / "update.zip", 2, "update", range(rows, rows + share), range(0, share)
        )
        started = time.perf_counter()
        _, counts = await load_extract(update, store, progress=Progress(every_s=10))
        print(
            f"update, {share:,} deleted + {share:,} inserted: {time.perf_counter() - started:.1f} s"
        )
        register = KboRegister(store)
        times = []
        for n in range(lookups):
            t0 = time.perf_counter()
            await register.check("BE" + _number((n * 7919) % (rows + share)).replace(".", ""))
            times.append(time.perf_counter() - t0)
        times.sort()
        print(
            f"{lookups:,} register checks: p50 {statistics.median(times) * 1000:.2f} ms, "
            f"p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms"
        )
    finally:
        await client.drop_database(db.name)
        await client.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    print(f"kbo load: {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-kbo-") as tmp:
        work = Path(tmp)
        if os.environ.get("MONGODB_URI"):
            await run(os.environ["MONGODB_URI"], args.rows, args.lookups, work)
            return
        node = mongodb.new_node(work / "db", durable=True)
        process = mongodb.start_and_wait(node)
        try:
            await run(node.uri, args.rows, args.lookups, work)
        finally:
            stop_process(process)


if __name__ == "__main__":
    asyncio.run(main())
