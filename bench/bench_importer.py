"""Importer: offline validation of 10,000 and 100,000 rows, next to the bare read of the same file
(`uv run python bench/bench_importer.py [--sizes 10000,100000] [--workers N]`).

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
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench-importer"
GOALS = {10_000: (1.5, None), 100_000: (15.0, 400.0)}

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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
