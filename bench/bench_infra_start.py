"""Start-up times of the local Kafka and MongoDB-wire server (SecantusDB) (`uv run python bench/bench_infra_start.py`).

cold: a new data directory (Kafka formats its storage); warm: a restart on existing data. The jars
and the secantusd-rs binary come from the cache (`.cache/`); the first-ever download/build is extra.
Baseline printed alongside: the bare JVM start (`java -version`) and process spawn of the binary.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from portal_infra import kafka, mongodb
from portal_infra.process import require_tool, stop_process


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(start_node) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds to a ready server: on a new data directory (cold), then restarted on it (warm)."""
    times = []
    for _ in ("cold", "warm"):
        started = time.perf_counter()
        process = start_node()
        times.append(time.perf_counter() - started)
        stop_process(process)
    return times[0], times[1]


def main() -> None:
    kafka.kafka_libs()
    mongodb.server_binary()
    java = require_tool("java")
    jvm = timed(lambda: subprocess.run([java, "-version"], capture_output=True, check=True))
    with tempfile.TemporaryDirectory() as tmp:
        kafka_node = kafka.new_node(Path(tmp) / "kafka")
        mongo_node = mongodb.new_node(Path(tmp) / "mongodb", durable=True)
        k_cold, k_warm = measure(lambda: kafka.start_and_wait(kafka_node))
        m_cold, m_warm = measure(lambda: mongodb.start_and_wait(mongo_node))
    print(f"{'server':<10} {'cold start (s)':>15} {'warm start (s)':>15}   baseline")
    print(f"{'kafka':<10} {k_cold:>15.1f} {k_warm:>15.1f}   bare JVM start {jvm:.2f}s")
    print(f"{'secantus':<10} {m_cold:>15.1f} {m_warm:>15.1f}")


if __name__ == "__main__":
    main()
