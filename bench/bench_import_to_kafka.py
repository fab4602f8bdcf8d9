"""10,000 confirmed import rows -> 10,000 ClientCreated on Kafka (goal: under 3 s), next to a bare
produce of the same messages to the same broker in the same run.

    uv run python bench/bench_import_to_kafka.py [--rows 10000] [--rows-per-transaction N]
                                                 [--profile]

The clients worker runs as its own process (`python -m portal_clients.entrypoints.worker`, as
`make up` runs it); the bench publishes the import's ImportValidated chunks (<= 512 KB each) as
the importer does on confirm, and times the first publish -> the last ClientCreated read back
from the broker (and -> every part of ImportCommitted). A warm-up import of 20 rows first lets
the worker join its consumer group. Servers: MONGODB_URI / KAFKA_BOOTSTRAP_SERVERS, else a
throwaway SecantusDB (durable, as `make up`) and Kafka. `--profile` runs the worker under
cProfile and prints where its time went. Baseline: the same number of messages of the same size
produced straight to the broker with the service's producer settings (acks=all, idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import re
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from clients_import import (  # bench/, beside this script
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

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import ClientCreated
from portal_contracts.imports import ImportCommitted, ImportValidated
from portal_contracts.topics import Topics

GOAL_S = 3.0


async def bare_produce(kafka: str, topic: str, payload: bytes, count: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True)
    await producer.start()
    started = time.perf_counter()
    try:
        sent = [await producer.send(topic, payload, key=str(i).encode()) for i in range(count)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def run(args: argparse.Namespace, mongodb_uri: str, kafka: str, home: Path) -> None:
    run_id = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"bench.{run_id}.")
    env = service_env(mongodb_uri, kafka, topics.prefix, f"bench_{run_id}_clients")
    if args.rows_per_transaction:
        env["CLIENTS_IMPORT_ROWS_PER_TRANSACTION"] = str(args.rows_per_transaction)
    names = [topics.of(t) for t in (ImportValidated, ClientCreated, ImportCommitted)]
    await create_topics(kafka, [*names, f"bench.{run_id}.bare"])
    profile = home / "worker.prof" if args.profile else None
    log = home / "worker.log"
    print(f"# building {args.rows:,} rows ...", flush=True)
    chunks = await asyncio.to_thread(
        import_chunks, "bench-import", f"imp-{run_id}", args.rows, 50_000
    )
    worker = start_worker(env, log, profile)
    broker = build_broker(kafka, client_id=f"bench-{run_id}")
    await broker.start()
    created, answers = TopicReader(kafka, names[1]), TopicReader(kafka, names[2])
    try:
        await created.start()
        await answers.start()
        print("# warm-up import of 20 rows (the worker joins its group) ...", flush=True)
        for chunk in import_chunks("bench-warm", f"warm-{run_id}", 20, 1):
            await publish_event(broker, topics, chunk)
        await answers.until(1, 120, progress="warm-up answer")
        await created.until(20, 60)
        created.records.clear()
        answers.records.clear()
        print(f"# {len(chunks)} chunks of ImportValidated -> the worker ...", flush=True)
        started = time.perf_counter()
        for chunk in chunks:
            await publish_event(broker, topics, chunk)
        published = time.perf_counter() - started
        to_created = await created.until(args.rows, 600, since=started, progress="ClientCreated")
        parts = 1 + (args.rows - 1) // 5_000
        to_answer = await answers.until(parts, 120, since=started)
        sample = created.records[0]
    finally:
        await created.stop()
        await answers.stop()
        await broker.stop()
        stop(worker)
    bare = await bare_produce(kafka, f"bench.{run_id}.bare", sample, args.rows)
    phases = re.findall(r"import imp-\S+ \d+ clients \(.*\)", log.read_text())
    print()
    print(f"{'what':<60} {'seconds':>8} {'msgs/s':>9}")
    line = f"first chunk published -> {args.rows:,} ClientCreated on Kafka (goal < {GOAL_S:.0f} s)"
    print(f"{line:<60} {to_created:>8.2f} {args.rows / to_created:>9,.0f}")
    print(f"{'first chunk published -> every part of ImportCommitted':<60} {to_answer:>8.2f}")
    print(f"{f'  (publishing the {len(chunks)} chunks took)':<60} {published:>8.2f}")
    line = f"baseline: bare produce of {args.rows:,} same-size messages ({len(sample):,} B)"
    print(f"{line:<60} {bare:>8.2f} {args.rows / bare:>9,.0f}")
    print(f"worker: {phases[-1] if phases else '(no phase line in the log)'}")
    if profile is not None and profile.exists():
        print("\nworker profile (cProfile, whole run), top 25 by own time:")
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--rows-per-transaction", type=int, default=0, help="default: the service's"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the worker's log")
    args = parser.parse_args()
    home = scratch()
    try:
        with servers(home) as (mongodb_uri, kafka):
            asyncio.run(run(args, mongodb_uri, kafka, home))
    finally:
        if args.keep:
            print(f"# worker log: {home / 'worker.log'}")
        else:
            remove(home)


if __name__ == "__main__":
    main()
