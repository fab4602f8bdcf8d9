"""The MongoDB promises the services rely on, probed on the local server (SecantusDB, started here
on a throwaway store) and on any other MongoDB-wire server given with ``--compare NAME=URI``.

`uv run python bench/bench_mongo_server.py [--compare mongodb8=mongodb://…] [--docs 20000]`

Probes (one table, a column per server):
- racing conditional updates: 30 writers per round run `update_one({_id, version: v})`; a
  server that keeps MongoDB's promise has exactly one winner in every round;
- 30 concurrent `$inc` of one counter: +30 expected;
- an update to a value a unique index already holds: MongoDB answers E11000 (code 11000);
- a queue claim: 30 workers `find_one_and_update` 10 due jobs: 10 claims expected;
- a find by a non-unique indexed field in a collection of ``--docs`` documents (median ms) and
  whether the plan is an index scan;
- single-client inserts (2 KB), finds by `_id`, updates by `_id` per second;
- transactions, change streams, TTL and partial indexes: whether each works.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import OperationFailure, PyMongoError

from portal_infra import mongodb
from portal_infra.process import stop_process

RACERS = 30
ROUNDS = 10


async def _race(n: int, attempt: Callable[[int], Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*(attempt(i) for i in range(n)), return_exceptions=True))


async def races(db: Any) -> str:
    coll = db["race"]
    await coll.insert_one({"_id": "c", "version": 0})
    winners = []
    for v in range(ROUNDS):
        outcomes = await _race(
            RACERS,
            lambda i, v=v: coll.update_one(
                {"_id": "c", "version": v}, {"$set": {"version": v + 1}}
            ),
        )
        winners.append(sum(o.modified_count for o in outcomes if not isinstance(o, BaseException)))
        await coll.update_one({"_id": "c"}, {"$set": {"version": v + 1}})
    return f"{min(winners)}-{max(winners)} winners/round"


async def increments(db: Any) -> str:
    coll = db["inc"]
    await coll.insert_one({"_id": "k", "n": 0})
    await _race(RACERS, lambda i: coll.update_one({"_id": "k"}, {"$inc": {"n": 1}}))
    return f"+{(await coll.find_one({'_id': 'k'}))['n']} of +{RACERS}"


async def unique_update(db: Any) -> str:
    coll = db["uniq"]
    await coll.create_index("email", unique=True)
    await coll.insert_many([{"_id": 1, "email": "a@x.be"}, {"_id": 2, "email": "b@x.be"}])
    try:
        await coll.update_one({"_id": 2}, {"$set": {"email": "a@x.be"}})
    except OperationFailure as exc:
        return f"code {exc.code}"
    return "accepted (!)"


async def claims(db: Any) -> str:
    coll = db["jobs"]
    now = datetime.now(UTC)
    await coll.insert_many([{"_id": i, "state": "due", "due_at": now} for i in range(10)])

    async def worker(i: int) -> int:
        taken = 0
        while await coll.find_one_and_update(
            {"state": "due", "due_at": {"$lte": now}},
            {"$set": {"due_at": now + timedelta(minutes=1)}},
            sort=[("due_at", 1)],
            return_document=ReturnDocument.AFTER,
        ):
            taken += 1
        return taken

    outcomes = await _race(RACERS, worker)
    return f"{sum(o for o in outcomes if isinstance(o, int))} of 10"


async def indexed_find(db: Any, docs: int) -> tuple[str, str]:
    coll = db["clients"]
    await coll.create_index("status")
    for start in range(0, docs, 1000):
        await coll.insert_many(
            [
                {"_id": f"c{i:06d}", "status": f"s{i % 1000}", "pad": "x" * 500}
                for i in range(start, min(start + 1000, docs))
            ]
        )
    samples = []
    for i in range(30):
        started = time.perf_counter()
        await coll.find({"status": f"s{i}"}).to_list()
        samples.append((time.perf_counter() - started) * 1000)
    explained = await coll.find({"status": "s1"}).explain()
    plan = str(explained.get("queryPlanner", {}).get("winningPlan", {}))
    scan = "IXSCAN" if "IXSCAN" in plan else ("COLLSCAN" if "COLLSCAN" in plan else "?")
    return f"{statistics.median(samples):.2f} ms", scan


async def rates(db: Any, n: int = 2000) -> str:
    coll = db["rates"]
    pad = "x" * 2000
    figures = []
    for op in (
        lambda i: coll.insert_one({"_id": f"r{i:06d}", "pad": pad}),
        lambda i: coll.find_one({"_id": f"r{i:06d}"}),
        lambda i: coll.update_one({"_id": f"r{i:06d}"}, {"$set": {"n": i}}),
    ):
        started = time.perf_counter()
        for i in range(n):
            await op(i)
        figures.append(f"{n / (time.perf_counter() - started) / 1000:.1f}k")
    return " / ".join(figures)


async def features(client: Any, db: Any) -> str:
    works = []
    try:
        await db.create_collection("tx")
        async with client.start_session() as s:
            await s.with_transaction(lambda s: db["tx"].insert_one({"_id": 1}, session=s))
        works.append("transactions")
    except PyMongoError:
        pass
    try:
        async with await db["tx"].watch() as stream:
            await db["tx"].insert_one({"_id": 2})
            await asyncio.wait_for(stream.next(), 5)
        works.append("change streams")
    except (PyMongoError, TimeoutError):
        pass
    try:
        await db["ttl"].create_index("at", expireAfterSeconds=0)
        works.append("TTL")
    except PyMongoError:
        pass
    try:
        await db["partial"].create_index(
            "ref", unique=True, partialFilterExpression={"ref": {"$gt": ""}}
        )
        await db["partial"].insert_many([{"ref": ""}, {"ref": ""}])
        works.append("partial indexes")
    except PyMongoError:
        pass
    return ", ".join(works) or "none"


async def probe(uri: str, docs: int) -> dict[str, str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = client[f"probe_{int(time.time() * 1000)}"]
    try:
        row = {
            "racing conditional updates": await races(db),
            "30 concurrent $inc": await increments(db),
            "update to a taken unique value": await unique_update(db),
            "30 workers claim 10 jobs": await claims(db),
        }
        row["find by indexed field, ms"], row["plan"] = await indexed_find(db, docs)
        row["inserts / finds / updates per s"] = await rates(db)
        row["features"] = await features(client, db)
        return row
    finally:
        await client.drop_database(db.name)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=URI")
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        node = mongodb.new_node(Path(tmp), durable=True)  # the flags `make up` uses
        process = mongodb.start_and_wait(node)
        try:
            print(f"# probing SecantusDB {mongodb.build_id()} (--sync-on-commit) …", flush=True)
            results[f"SecantusDB {mongodb.build_id()}"] = asyncio.run(probe(node.uri, args.docs))
        finally:
            stop_process(process)
    for spec in args.compare:
        name, uri = spec.split("=", 1)
        print(f"# probing {name} …", flush=True)
        results[name] = asyncio.run(probe(uri, args.docs))
    names = list(results)
    rows = list(next(iter(results.values())))
    print("\n| probe | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for row in rows:
        print(f"| {row} | " + " | ".join(results[n][row] for n in names) + " |")


if __name__ == "__main__":
    main()
