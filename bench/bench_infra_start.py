"""Start-up times of the local Kafka and FerretDB (`uv run python bench/bench_infra_start.py`).

cold: a new data directory (Kafka formats its storage); warm: a restart on existing data. The jars
and the FerretDB binary come from the cache (`.cache/`); the first-ever download/build is extra.
Baseline printed alongside: the bare JVM start (`java -version`) and process spawn of the binary.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from portal_infra import ferretdb, kafka
from portal_infra.process import require_tool, stop_process


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure_kafka(home: Path) -> tuple[float, float]:
    node = kafka.new_node(home)
    process = None

    def start() -> None:
        nonlocal process
        process = kafka.start_and_wait(node)

    cold = timed(start)
    assert process is not None
    stop_process(process)
    warm = timed(start)
    stop_process(process)
    return cold, warm


def measure_ferretdb(home: Path) -> tuple[float, float]:
    node = ferretdb.new_node(home)
    process = None

    def start() -> None:
        nonlocal process
        process = ferretdb.start_and_wait(node)

    cold = timed(start)
    assert process is not None
    stop_process(process)
    warm = timed(start)
    stop_process(process)
    return cold, warm


def main() -> None:
    kafka.kafka_libs()
    ferretdb.ferretdb_binary()
    java = require_tool("java")
    jvm = timed(lambda: subprocess.run([java, "-version"], capture_output=True, check=True))
    with tempfile.TemporaryDirectory() as tmp:
        k_cold, k_warm = measure_kafka(Path(tmp) / "kafka")
        f_cold, f_warm = measure_ferretdb(Path(tmp) / "ferretdb")
    print(f"{'server':<10} {'cold start (s)':>15} {'warm start (s)':>15}   baseline")
    print(f"{'kafka':<10} {k_cold:>15.1f} {k_warm:>15.1f}   bare JVM start {jvm:.2f}s")
    print(f"{'ferretdb':<10} {f_cold:>15.1f} {f_warm:>15.1f}")


if __name__ == "__main__":
    main()
