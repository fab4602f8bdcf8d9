"""What our two FerretDB patches change: `_id` lookups, updates and deletes in a big collection.

`uv run python bench/bench_ferretdb.py [--docs 10000] [--size 7000]`

Starts two throwaway FerretDB 1.24.2 servers on the same machine in the same run: the upstream
build (the baseline) and ours (tools/infra/src/portal_infra/ferretdb_patches.py). Each gets the
same collection of client-sized documents (7 KB, the size of a client document with its outbox),
then the same operations by `_id`, timed one at a time. The upstream build is compiled once into
`.cache/ferretdb/` (a few minutes the first time).
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    main()
