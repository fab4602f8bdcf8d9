"""Randomised fault runs: each picks a fault, a moment and a volume at random, lets documents flow
through clients, ubl and delivery as processes while it strikes, lets the system recover, and
checks at the receiving side that nothing accepted was lost, sent twice or left stuck.

    uv run python bench/faults.py [--runs 50] [--documents 100-300] [--seed 1] [--fault NAME]

One platform (its own Kafka, SecantusDB, Toxiproxy, SMTP and sFTP servers) for all runs; every
run has fresh databases and topics and restarts every service process. Prints a line per run and
a table per fault at the end; writes bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from portal_infra.faults.platform import start_platform, stop_platform
from portal_infra.faults.scenarios import FAULTS, Outcome, scenario

RESULTS = Path(__file__).resolve().parent / "results"


async def main_async(args: argparse.Namespace) -> list[Outcome]:
    rng = random.Random(args.seed)
    low, high = (int(x) for x in args.documents.split("-"))
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        platform = await start_platform(Path(tmp))
        try:
            for run in range(1, args.runs + 1):
                fault = args.fault or rng.choice(sorted(FAULTS))
                documents = rng.randint(low, high)
                started = time.monotonic()
                outcome = await scenario(
                    platform, fault, documents=documents, seed=rng.randrange(10**6)
                )
                outcomes.append(outcome)
                print(
                    f"[{run:>3}/{args.runs}] {fault:<24} {outcome.accepted:>4} accepted "
                    f"{outcome.delivered:>4} delivered  lost {outcome.lost} dup {outcome.duplicated} "
                    f"stuck {outcome.stuck} .part {outcome.leftover_parts} "
                    f"resent-same-id {outcome.resent_same_id}  {time.monotonic() - started:5.0f} s"
                    + ("" if outcome.ok else "  FAILED: " + "; ".join(outcome.notes[:3])),
                    flush=True,
                )
        finally:
            await stop_platform(platform)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--documents", default="100-300")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault", choices=sorted(FAULTS))
    args = parser.parse_args()
    outcomes = asyncio.run(main_async(args))
    by_fault: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_fault[outcome.fault].append(outcome)
    print(
        "\n| fault | runs | accepted | delivered | lost | duplicated | stuck | .part left | e-mail resent (same Message-ID) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for fault, runs in sorted(by_fault.items()):

        def total(key: str, runs: list[Outcome] = runs) -> int:
            return sum(getattr(o, key) for o in runs)

        print(
            f"| {fault} | {len(runs)} | {total('accepted')} | {total('delivered')} | {total('lost')} "
            f"| {total('duplicated')} | {total('stuck')} | {total('leftover_parts')} | {total('resent_same_id')} |"
        )
    failed = [o for o in outcomes if not o.ok]
    print(
        f"\n{len(outcomes)} runs: {len(outcomes) - len(failed)} clean, {len(failed)} with a broken promise"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps([asdict(o) for o in outcomes], indent=2))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
