"""What our FerretDB build and settings change: `_id` lookups, updates and deletes in a big
collection, and the write rate.

`uv run python bench/bench_ferretdb.py [--docs 10000] [--size 7000]`

Writes: inserts of 2 KB documents, one at a time and 16 in flight, with SQLite's default
`synchronous=FULL` (an fsync per commit) next to the `synchronous=NORMAL` our servers use (see
portal_infra/ferretdb.py), measured in the same run.

Starts two throwaway FerretDB 1.24.2 servers on the same machine in the same run: the upstream
build (the baseline) and ours (tools/infra/src/portal_infra/ferretdb_patches.py). Each gets the
same collection of client-sized documents (7 KB, the size of a client document with its outbox),
then the same operations by `_id`, timed one at a time. The upstream build is compiled once into
`.cache/ferretdb/` (a few minutes the first time).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from portal_infra import ferretdb
from portal_infra.process import stop_process

Op = Callable[[int], Any]


def timed_ms(op: Op, rounds: int) -> float:
    """Median milliseconds of ``rounds`` runs of ``op(i)``."""
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        op(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(upstream: bool, docs: int, size: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        node = ferretdb.new_node(Path(tmp), upstream=upstream)
        process = ferretdb.start_and_wait(node)
        client: MongoClient[dict[str, Any]] = MongoClient(node.uri)
        try:
            coll = client["bench"]["clients"]
            pad = "x" * size
            for start in range(0, docs, 1000):
                coll.insert_many(
                    [
                        {"_id": f"client-{i:06d}", "version": 1, "office_id": "o1", "pad": pad}
                        for i in range(start, min(start + 1000, docs))
                    ]
                )
            key = lambda i: f"client-{(i * 7919) % docs:06d}"  # noqa: E731 - spread over the table
            return {
                "find_one {_id}": timed_ms(lambda i: coll.find_one({"_id": key(i)}), rounds),
                "update_one {_id} $set": timed_ms(
                    lambda i: coll.update_one({"_id": key(i)}, {"$set": {"seen": i}}), rounds
                ),
                "update_one {_id, version} (compare-and-set)": timed_ms(
                    lambda i: coll.update_one({"_id": key(i), "version": 1}, {"$set": {"cas": i}}),
                    rounds,
                ),
                "find {_id: {$in: 100 ids}}": timed_ms(
                    lambda i: coll.find(
                        {"_id": {"$in": [key(i + j) for j in range(100)]}}
                    ).to_list(),
                    rounds,
                ),
                "delete_one {_id}": timed_ms(
                    lambda i: coll.delete_one({"_id": f"client-{i:06d}"}), rounds
                ),
            }
        finally:
            client.close()
            stop_process(process)


async def write_rates(synchronous: str, count: int = 1000) -> tuple[float, float]:
    """Inserts per second: one at a time, then 16 in flight."""
    from pymongo import AsyncMongoClient

    with tempfile.TemporaryDirectory() as tmp:
        node = ferretdb.new_node(Path(tmp))
        node.synchronous = synchronous
        process = ferretdb.start_and_wait(node)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(node.uri)
        try:
            coll = client["bench"]["writes"]
            pad = "x" * 2000
            started = time.perf_counter()
            for i in range(count // 2):
                await coll.insert_one({"_id": f"a{i}", "pad": pad})
            one_at_a_time = (count // 2) / (time.perf_counter() - started)
            gate = asyncio.Semaphore(16)

            async def insert(i: int) -> None:
                async with gate:
                    await coll.insert_one({"_id": f"b{i}", "pad": pad})

            started = time.perf_counter()
            await asyncio.gather(*(insert(i) for i in range(count)))
            return one_at_a_time, count / (time.perf_counter() - started)
        finally:
            await client.close()
            stop_process(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=7_000, help="bytes of padding per document")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print(f"# {args.docs:,} documents of ~{args.size:,} bytes; median of {args.rounds} runs each")
    ours = measure(False, args.docs, args.size, args.rounds)
    upstream = measure(True, args.docs, args.size, args.rounds)
    print(f"{'operation':<46} {'patched ms':>11} {'upstream ms':>12} {'speed-up':>9}")
    for name, ms in ours.items():
        base = upstream[name]
        print(f"{name:<46} {ms:>11.2f} {base:>12.2f} {base / ms:>8.0f}x")
    normal = asyncio.run(write_rates("normal"))
    full = asyncio.run(write_rates("full"))
    print(f"\n{'inserts of 2 KB per second':<46} {'NORMAL':>11} {'FULL':>12} {'speed-up':>9}")
    for label, ours_rate, base_rate in (
        ("one at a time", normal[0], full[0]),
        ("16 in flight", normal[1], full[1]),
    ):
        print(f"{label:<46} {ours_rate:>11.0f} {base_rate:>12.0f} {ours_rate / base_rate:>8.1f}x")


if __name__ == "__main__":
    main()
