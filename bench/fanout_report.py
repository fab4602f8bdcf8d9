"""The fan-out benchmark's figures from what a run watched, its tables, JSON and plot.

Goals (issue 13): overall throughput ≥ 50 % of the slowest channel's raw limit; DocumentReady →
delivered p95 < 2 s at 20 documents/s; with sFTP down, the other channels' p95 within 20 % of the
clean run and sFTP's backlog drained without a duplicate.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from fanout_office import DELIVERED, Workload
from fanout_watch import Arrivals, Sampler


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latency(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 0.5), "p95": pct(values, 0.95), "p99": pct(values, 0.99)}


def figures(
    work: Workload,
    ready: dict[str, float],
    arrivals: Arrivals,
    sampler: Sampler,
    started: float,
    limits: dict[str, float],
) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    every_ready, every_last = [], []
    sent = Counter(work.documents.values())
    for channel in DELIVERED:
        docs = [d for d, c in work.documents.items() if c == channel]
        if not docs:
            continue
        last = arrivals.last.get(channel, {})
        copies = arrivals.copies.get(channel, Counter())
        delivered = [d for d in docs if d[:8] in last]
        latencies = [last[d[:8]] - ready[d] for d in delivered if d in ready]
        first = min((ready[d] for d in docs if d in ready), default=started)
        end = max((last[d[:8]] for d in delivered), default=first)
        times = sorted(last[d[:8]] for d in delivered)
        every_ready.append(first)
        every_last.append(end)
        channels[channel] = {
            "sent": len(docs),
            "delivered": len(delivered),
            "missing": len(docs) - len(delivered),
            "duplicated": sum(max(copies[d[:8]] - 1, 0) for d in delivered),
            "per_s": len(delivered) / (end - first) if end > first else math.nan,
            "latency_s": _latency(latencies),
            "raw_limit_per_s": limits.get(channel),
            "last_at": end,
            # between its first and its last arrival: the channel's own pace, once it runs
            "drain_per_s": (len(times) - 1) / (times[-1] - times[0])
            if len(times) > 1 and times[-1] > times[0]
            else math.nan,
        }
    delivered_total = sum(c["delivered"] for c in channels.values())
    span = max(every_last, default=0) - min(every_ready, default=0)
    overall = delivered_total / span if span > 0 else math.nan
    in_use = {c: limits[c] for c in channels if limits.get(c)}
    slowest = min(in_use, key=lambda c: in_use[c]) if in_use else None
    all_latencies = [
        arrivals.last[c][d[:8]] - ready[d]
        for d, c in work.documents.items()
        if c in channels and d in ready and d[:8] in arrivals.last.get(c, {})
    ]
    return {
        "started": started,
        "channels": channels,
        "manual": sent.get("manual", 0),
        "overall": {
            "delivered": delivered_total,
            "per_s": overall,
            "latency_s": _latency(all_latencies),
            "slowest_raw_channel": slowest,
            "vs_slowest_raw": overall / in_use[slowest] if slowest else None,
        },
        "raw_limits_per_s": limits,
        "resent_same_message_id": arrivals.resent_same_id,
        "series": _series(work, arrivals, sampler, started),
        "processes": _processes(sampler),
        "partitions_with_records": {
            c: sum(1 for end in ends if end > 0) for c, ends in sampler.per_partition.items()
        },
    }


def _series(work: Workload, arrivals: Arrivals, sampler: Sampler, started: float) -> dict[str, Any]:
    """Per second since the first submission: documents delivered per channel, lag per topic."""
    seconds = max(int(s.t - started) for s in sampler.samples) + 1 if sampler.samples else 0
    delivered: dict[str, list[int]] = {}
    for channel in DELIVERED:
        keys = {d[:8] for d, c in work.documents.items() if c == channel}
        if not keys:
            continue
        bins = [0] * seconds
        for key, at in arrivals.last.get(channel, {}).items():
            second = int(at - started)
            if key in keys and 0 <= second < seconds:
                bins[second] += 1
        delivered[channel] = bins
    lag: dict[str, list[tuple[float, int]]] = {}
    for sample in sampler.samples:
        for channel, value in sample.lag.items():
            lag.setdefault(channel, []).append((round(sample.t - started, 2), value))
    return {"delivered_per_s": delivered, "lag": lag}


def _processes(sampler: Sampler) -> dict[str, dict[str, float]]:
    names = {n for s in sampler.samples for n in s.cpu}
    out = {}
    for name in sorted(names):
        cpu = [s.cpu[name] for s in sampler.samples if name in s.cpu]
        rss = [s.rss_mb[name] for s in sampler.samples if name in s.rss_mb]
        out[name] = {
            "cpu_mean_pct": sum(cpu) / len(cpu) if cpu else 0.0,
            "cpu_max_pct": max(cpu, default=0.0),
            "rss_max_mb": max(rss, default=0.0),
        }
    return out


def _f(value: float | None, fmt: str = ".1f") -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, fmt)
    )


def print_run(r: dict[str, Any]) -> None:
    print(
        f"\n## {r['label']}: {r['documents']} documents, mode {r['mode']}, rate "
        f"{r['rate'] or 'max'}/s, {r['offices']} offices, {r['clients']} clients "
        f"({r['manual']} documents to manual clients), load {r['load_after'][0]:.2f}"
    )
    print(
        "| channel | sent | delivered | dup | docs/s | own pace/s | p50 s | p95 s | p99 s "
        "| raw limit/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for channel, c in r["channels"].items():
        lat = c["latency_s"]
        print(
            f"| {channel} | {c['sent']} | {c['delivered']} | {c['duplicated']} | {_f(c['per_s'])} "
            f"| {_f(c['drain_per_s'])} "
            f"| {_f(lat['p50'], '.2f')} | {_f(lat['p95'], '.2f')} | {_f(lat['p99'], '.2f')} "
            f"| {_f(c['raw_limit_per_s'])} |"
        )
    o = r["overall"]
    lat = o["latency_s"]
    print(
        f"| **overall** | | {o['delivered']} | | {_f(o['per_s'])} | | {_f(lat['p50'], '.2f')} "
        f"| {_f(lat['p95'], '.2f')} | {_f(lat['p99'], '.2f')} | |"
    )
    if o["vs_slowest_raw"] is not None and not r["rate"]:  # at a fixed rate: arrival-bound
        print(
            f"overall {_f(o['per_s'])}/s = {o['vs_slowest_raw']:.0%} of the slowest channel's raw "
            f"limit ({o['slowest_raw_channel']}, "
            f"{_f(r['raw_limits_per_s'][o['slowest_raw_channel']])}/s); goal ≥ 50 %"
        )
    if r["rate"]:
        print(f"p95 {_f(lat['p95'], '.2f')} s at {r['rate']:g} docs/s; goal < 2 s at 20 docs/s")
    print(
        f"max lag per topic: { {c: max((v for _, v in s), default=0) for c, s in r['series']['lag'].items()} }"
    )
    print(f"partitions with records: {r['partitions_with_records']}")
    print("| process | CPU mean % | CPU max % | RSS max MB |")
    print("|---|---|---|---|")
    for name, p in r["processes"].items():
        print(
            f"| {name} | {p['cpu_mean_pct']:.0f} | {p['cpu_max_pct']:.0f} | {p['rss_max_mb']:.0f} |"
        )


def print_comparison(clean: dict[str, Any], faulty: dict[str, Any]) -> None:
    print("\n## isolation: sFTP server down for "
          f"{faulty['fault'].get('up_at', 0) - faulty['fault'].get('down_at', 0):.0f} s")  # fmt: skip
    print("| channel | p95 clean s | p95 sFTP down s | change | goal | delivered | dup |")
    print("|---|---|---|---|---|---|---|")
    for channel, c in clean["channels"].items():
        f = faulty["channels"].get(channel)
        if f is None:
            continue
        p_clean, p_down = c["latency_s"]["p95"], f["latency_s"]["p95"]
        change = (p_down - p_clean) / p_clean if p_clean else math.nan
        goal = "(the fault)" if channel == "sftp" else ("ok" if change <= 0.2 else "MISSED")
        print(
            f"| {channel} | {_f(p_clean, '.2f')} | {_f(p_down, '.2f')} | {change:+.0%} | "
            f"{goal} (≤ +20 %) | {f['delivered']}/{f['sent']} | {f['duplicated']} |"
        )
    sftp = faulty["channels"].get("sftp")
    up = faulty["fault"].get("up_at")
    if sftp and up:
        last = sftp["last_at"] if sftp["delivered"] and not sftp["missing"] else None
        drained = "all" if sftp["missing"] == 0 else f"{sftp['missing']} missing"
        print(
            f"sFTP backlog after the server returned: {drained} delivered, "
            f"{sftp['duplicated']} duplicates (files per document at the server)"
            + (f", drained {last - up:.1f} s after it returned" if last else "")
        )
    for breaker in faulty.get("breakers", []):
        print(
            f"breaker {breaker['destination']}: {breaker['failures']} failures counted, "
            f"paused until {breaker['open_until']}"
        )


def print_scale(reports: list[dict[str, Any]], role: str) -> None:
    channel = next(c for c in reports[0]["channels"] if c == role) if reports else role
    print(f"\n## scale-out: {role} workers in one consumer group")
    print("(the workers start once the whole backlog waits on the topic; docs/s between the first")
    print("and the last arrival)")
    print("| workers | docs/s | speed-up | worker CPU mean % (sum) | partitions with records |")
    print("|---|---|---|---|---|")
    base = reports[0]["channels"].get(channel, {}).get("drain_per_s") if reports else None
    for r in reports:
        c = r["channels"].get(channel, {})
        count = r["workers"][role]
        speed = c.get("drain_per_s", math.nan) / base if base else math.nan
        cpu = sum(
            p["cpu_mean_pct"]
            for name, p in r["processes"].items()
            if name.partition(".")[0] == f"delivery-{role}"
        )
        print(
            f"| {count} | {_f(c.get('drain_per_s'))} | {_f(speed, '.2f')}× | {cpu:.0f} | "
            f"{r['partitions_with_records'].get(channel, '–')} of {r['partitions']} |"
        )


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=str))


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = report["series"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    total: list[int] = []
    for channel, bins in series["delivered_per_s"].items():
        top.plot(range(len(bins)), bins, label=channel, linewidth=1)
        total = [a + b for a, b in zip(total or [0] * len(bins), bins, strict=True)]
    if total:
        top.plot(range(len(total)), total, label="overall", color="black", linewidth=1.5)
    top.set_ylabel("documents delivered / s")
    top.legend(loc="upper right", fontsize=8)
    for channel, points in series["lag"].items():
        bottom.plot([t for t, _ in points], [v for _, v in points], label=channel, linewidth=1)
    fault = report.get("fault") or {}
    if fault.get("down_at"):
        start = fault["down_at"] - (report.get("started") or fault["down_at"])
        for axis in (top, bottom):
            axis.axvspan(start, start + fault["up_at"] - fault["down_at"], alpha=0.15, color="red")
    bottom.set_ylabel("consumer lag (records)")
    bottom.set_xlabel("seconds since the first submission")
    bottom.legend(loc="upper right", fontsize=8)
    figure.suptitle(
        f"fan-out {report['label']}: {report['documents']} documents, {report['mode']}, "
        f"rate {report['rate'] or 'max'}/s"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
