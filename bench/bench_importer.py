"""Importer: offline validation of 10,000 and 100,000 rows, next to the bare read of the same file
(`uv run python bench/bench_importer.py [--sizes 10000,100000] [--workers N]`); and with `--api`
the service path on Kafka and the MongoDB-wire server (KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI, or
those `make infra-up` started): upload -> report, and confirm -> every ImportValidated chunk on
Kafka, through the real importer API and worker processes, the clients service faked (instant
availability, at most 20,000 values a call like the real one) or real (`--clients real`). The
API process's peak RSS (VmHWM) is printed at the end.

Each measurement runs in its own child process, which reports its wall time and peak RSS (its own
and its pool workers', `resource.getrusage`). "validate" is `importer validate FILE --json`
(read + every client rule + duplicates; offline, so no platform call), timed inside the child
after imports; "total" adds the interpreter start and imports. Bare reads: python-calamine
iterating every row, and openpyxl read-only iterating every row. Goals (issue 4): 10,000 rows
< 1.5 s; 100,000 rows < 15 s with peak RSS < 400 MB. Generated files are cached under
.cache/bench-importer/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench-importer"
GOALS = {10_000: (1.5, None), 100_000: (15.0, 400.0)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
mode, path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "validate":
    import io, contextlib
    from portal_importer.entrypoints import cli
    imported = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["validate", path, "--json", "--workers", str(workers)])
    report = json.loads(out.getvalue())
    extra = {"exit": code, "rows": report["rows"], "errors": len(report["errors"])}
elif mode == "calamine":
    import python_calamine
    imported = time.perf_counter()
    sheet = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    extra = {"rows": sum(1 for _ in sheet.iter_rows()) - 1}
else:
    import openpyxl
    imported = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    extra = {"rows": sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1}
    book.close()
done = time.perf_counter()
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"work_s": done - imported, "rss_mb": rss / 1024, **extra}))
"""


def sample_file(rows: int) -> Path:
    from portal_importer.domain.columns import BY_KEY
    from portal_importer.samples import client_row, plain_workbook

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"clients-{rows}-v1.xlsx"
    if not path.exists():
        started = time.perf_counter()
        keys = list(client_row(1))
        headers = [BY_KEY[k].header("fr") for k in keys]
        data = plain_workbook(
            headers, ([r[k] for k in keys] for r in map(client_row, range(1, rows + 1)))
        )
        path.write_bytes(data)
        print(
            f"  (generated {path.name}, {len(data) / 2**20:.1f} MB, in {time.perf_counter() - started:.1f} s)"
        )
    return path


def measure(mode: str, path: Path, workers: int) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["total_s"] = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--api", action="store_true", help="the service path instead")
    parser.add_argument("--rows", type=int, default=10_000, help="with --api")
    parser.add_argument("--repeat", type=int, default=3, help="with --api")
    parser.add_argument(
        "--clients", choices=("fake", "real"), default="fake", help="with --api: availability"
    )
    args = parser.parse_args()
    if args.api:
        return asyncio.run(run_api(args.rows, args.repeat, args.clients))
    print(
        f"importer benchmark: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}, workers={args.workers}"
    )
    missed = 0
    for rows in (int(s) for s in args.sizes.split(",")):
        path = sample_file(rows)
        print(f"\n{rows:,} rows ({path.stat().st_size / 2**20:.1f} MB)")
        print(f"  {'what':<28}{'work s':>9}{'total s':>9}{'rows/s':>10}{'peak RSS MB':>13}")
        for mode, label in (
            ("calamine", "bare read: python-calamine"),
            ("openpyxl", "bare read: openpyxl r/o"),
            ("validate", "importer validate --json"),
        ):
            result = measure(mode, path, args.workers)
            assert result["rows"] == rows, result
            if mode == "validate":
                assert result["exit"] == 0, result
                assert result["errors"] == 0, result
            print(
                f"  {label:<28}{result['work_s']:>9.2f}{result['total_s']:>9.2f}{rows / result['work_s']:>10,.0f}{result['rss_mb']:>13.0f}"
            )
            if mode == "validate" and rows in GOALS:
                limit_s, limit_mb = GOALS[rows]
                ok_time = result["total_s"] < limit_s
                ok_rss = limit_mb is None or result["rss_mb"] < limit_mb
                verdict = "met" if ok_time and ok_rss else "MISSED"
                missed += not (ok_time and ok_rss)
                rss_goal = f", peak RSS < {limit_mb:.0f} MB" if limit_mb else ""
                print(f"  goal: < {limit_s} s total{rss_goal}: {verdict}")
    return 1 if missed else 0


# --- the service path ------------------------------------------------------------------------

API_GOAL_S = 1.0  # confirm -> last chunk, the importer's own share (fake clients service)
LAUNCH = (
    "import logging, sys, uvicorn; "
    "logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s %(message)s'); "
    "uvicorn.run('portal_importer.entrypoints.http:create_app', factory=True, "
    "host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)


def fake_clients() -> tuple[str, Any]:
    """The clients service's API as the importer calls it: nothing taken, two groups."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/v1/groups":
                return self._answer([{"group_id": "everyone", "name": "Everyone"}])
            return self._answer({"settings": {"enabled_transfer_methods": ["manual", "email"]}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            self._answer({kind: dict.fromkeys(body[kind], "available") for kind in body})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


async def chunks_of(consumer: Any, import_id: str, started: float) -> tuple[float, float, int]:
    """Seconds from ``started`` to the first and the last chunk of the import; chunk count."""
    first = last = 0.0
    seen: set[int] = set()
    count = None
    while count is None or len(seen) < count:
        batch = await asyncio.wait_for(consumer.getmany(timeout_ms=100), timeout=120)
        for records in batch.values():
            for record in records:
                if record.key != import_id.encode():
                    continue
                event = json.loads(record.value)["payload"]
                now = time.perf_counter() - started
                first = first or now
                last = now
                seen.add(event["chunk_index"])
                count = event["chunk_count"]
                assert len(record.value) <= 512 * 1024, len(record.value)
    return first, last, len(seen)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _log_lines(path: Path, marker: str) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if marker in line]


async def run_api(rows: int, repeat: int, clients: str) -> int:
    import tempfile
    import uuid

    import httpx
    from aiokafka import AIOKafkaConsumer

    sys.path.insert(0, str(ROOT))
    from portal_contracts.imports import ImportValidated
    from portal_contracts.topics import Topics
    from portal_infra import local
    from portal_infra.process import free_port, spawn, stop_process
    from tests.e2e.conftest import JWT_KEY, Stack, bearer

    keys = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
    urls = {k: os.environ[k] for k in keys if k in os.environ} or local.running()
    if len(urls) < 2:
        raise SystemExit("needs Kafka and the MongoDB-wire server: make infra-up")
    run = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"bench.{run}.")
    logs = Path(tempfile.mkdtemp(prefix="bench-importer-api-"))
    print(
        f"importer API path: {rows:,} rows, {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.2f}"
    )
    print(f"# service logs: {logs}")
    env = {
        **os.environ,
        **urls,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": topics.prefix,
        "IMPORTER_DATABASE": f"bench_{run}_importer",
        "CLIENTS_DATABASE": f"bench_{run}_clients",
        "CLIENTS_VIES_ENABLED": "false",
        "CLIENTS_CONSUMER_GROUP": f"bench-{run}-clients",
    }
    stack = Stack(env=env, topics=topics, logs=logs)
    server = None
    port = free_port()
    processes = []
    try:
        if clients == "real":
            stack.start_api("clients")
            await stack.wait_healthy("clients")
            env["IMPORTER_CLIENTS_URL"] = stack.url("clients")
        else:
            env["IMPORTER_CLIENTS_URL"], server = fake_clients()
        api_process = spawn(
            [sys.executable, "-c", LAUNCH, str(port)], logs / "importer-api.log", env=env
        )
        processes.append(api_process)
        processes.append(
            spawn(
                [sys.executable, "-m", "portal_importer.entrypoints.worker"],
                logs / "importer-worker.log",
                env=env,
            )
        )
        api = f"http://127.0.0.1:{port}"
        stack.ports["importer"] = port
        await stack.wait_healthy("importer")
        workbook = sample_file(rows).read_bytes()
        consumer = AIOKafkaConsumer(
            topics.of(ImportValidated),
            bootstrap_servers=urls["KAFKA_BOOTSTRAP_SERVERS"],
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            fetch_max_bytes=64 * 2**20,
        )
        await consumer.start()  # creates the topic, as it exists in production
        results = []
        async with httpx.AsyncClient(timeout=300) as http:
            for _ in range(repeat):
                started = time.perf_counter()
                uploaded = await http.post(
                    api + "/v1/imports",
                    headers=bearer("office-bench"),
                    files={"file": ("clients.xlsx", workbook, XLSX)},
                )
                upload_s = time.perf_counter() - started
                body = uploaded.json()
                assert uploaded.status_code == 201, uploaded.text[:500]
                assert body["report"]["valid"], body["report"]["errors"][:3]
                started = time.perf_counter()
                report = await http.get(
                    api + f"/v1/imports/{body['id']}", headers=bearer("office-bench")
                )
                report_s = time.perf_counter() - started
                assert report.status_code == 200
                started = time.perf_counter()
                confirmed = await http.post(
                    api + f"/v1/imports/{body['id']}/confirm", headers=bearer("office-bench")
                )
                confirm_s = time.perf_counter() - started
                assert confirmed.status_code == 202, confirmed.text[:500]
                first, last, count = await chunks_of(consumer, body["id"], started)
                results.append((upload_s, report_s, confirm_s, first, last, count))
        await consumer.stop()
        api_peak_mb = _peak_rss_mb(api_process.pid)
    finally:
        for process in processes:
            stop_process(process, timeout=10)
        stack.stop_all()
        if server is not None:
            server.shutdown()
    print(
        f"  {'#':<3}{'upload s':>9}{'report s':>9}{'confirm s':>10}{'1st chunk s':>12}{'last chunk s':>13}{'chunks':>7}"
    )
    for n, (up, rep, conf, first, last, count) in enumerate(results, 1):
        print(f"  {n:<3}{up:>9.2f}{rep:>9.2f}{conf:>10.2f}{first:>12.2f}{last:>13.2f}{count:>7}")
    print("  upload phases (API log):")
    for line in _log_lines(logs / "importer-api.log", " uploaded ("):
        print("   ", line.split(" uploaded ")[1])
    print("  confirm phases (API log):")
    for line in _log_lines(logs / "importer-api.log", " confirmed ("):
        print("   ", line.split(" confirmed ")[1])
    print(f"  API process peak RSS: {api_peak_mb:.0f} MB")
    best = min(r[4] for r in results)
    if clients == "fake":
        verdict = "met" if best < API_GOAL_S else "MISSED"
        print(
            f"  goal: confirm -> last chunk < {API_GOAL_S} s with instant availability: {verdict} (best {best:.2f} s)"
        )
        return 0 if best < API_GOAL_S else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
