"""What the fan-out benchmark watches while a run flows: the receiving side of every channel (what
arrived, when, how many times), when each DocumentReady was published (the record's timestamp on
the topic), each channel's consumer lag and every process's CPU and RSS, once a second.

A document is recognised at the receiving side by the suffix its files carry
(``base_name``: ``<name>_<document id[:8]>``); an e-mail by its attachments' names. A document
counts as delivered when its last file arrived (the file's mtime; an e-mail's arrival time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from portal_contracts.topics import Topics
from portal_infra.faults.platform import Platform, Run

FILE_CHANNELS = ("sftp", "onedrive", "clearfacts", "agent")


@dataclass
class Arrivals:
    """Per channel: document key (id[:8]) → the time its last file arrived, and how many UBL
    files (or distinct e-mails) it has at the receiving side."""

    last: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    copies: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    resent_same_id: int = 0


class Receiver:
    def __init__(self, platform: Platform, run: Run, agents: Path) -> None:
        self.platform = platform
        self.before: dict[str, int] = {}
        self.roots = {
            "sftp": platform.sftp_root,
            "onedrive": run.received / "graph",
            "clearfacts": run.received / "clearfacts",
            "agent": agents,
        }

    def counts(self) -> dict[str, int]:
        """Documents (UBL files, e-mails) received per channel since :meth:`zero`, cheaply."""
        found = {
            c: sum(1 for p in _files(root) if p.suffix == ".xml") for c, root in self.roots.items()
        }
        counts = {"email": len(self.platform.mailbox.messages), **found}
        return {c: n - self.before.get(c, 0) for c, n in counts.items()}

    def zero(self) -> None:
        """What arrived so far (the warm-up) no longer counts."""
        self.before = {}
        self.before = self.counts()

    def arrivals(self) -> Arrivals:
        seen = Arrivals()
        for channel, root in self.roots.items():
            for path in _files(root):
                key = path.stem.rsplit("_", 1)[-1]
                mtime = path.stat().st_mtime
                seen.last[channel][key] = max(mtime, seen.last[channel].get(key, 0.0))
                if path.suffix == ".xml":
                    seen.copies[channel][key] += 1
        by_id: dict[str, str] = {}
        box = self.platform.mailbox
        for (message_id, raw), at in zip(box.messages, box.received_at, strict=True):
            if message_id in by_id:
                seen.resent_same_id += 1
                continue
            parsed = message_from_bytes(raw, policy=policy.default)
            names = [part.get_filename() or "" for part in parsed.iter_attachments()]
            keys = {n.rsplit(".", 1)[0].rsplit("_", 1)[-1] for n in names if n}
            for key in keys:
                by_id[message_id] = key
                seen.last["email"][key] = max(at, seen.last["email"].get(key, 0.0))
                seen.copies["email"][key] += 1
        return seen


def _files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".part") and not p.name.startswith(".")
    ]


class ReadyTimes:
    """Reads the run's DocumentReady topic from the start: document id → the record's timestamp
    (the moment it was published, whoever published it)."""

    def __init__(self, run: Run) -> None:
        self.topic = Topics(run.env["PORTAL_TOPIC_PREFIX"]).of("DocumentReady")
        self.bootstrap = run.env["KAFKA_BOOTSTRAP_SERVERS"]
        self.at: dict[str, float] = {}

    async def follow(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for records in batches.values():
                    for record in records:
                        body = json.loads(record.value or b"{}")
                        self.at[body["payload"]["document_id"]] = record.timestamp / 1000
        finally:
            await consumer.stop()


@dataclass
class Sample:
    t: float
    delivered: dict[str, int]
    lag: dict[str, int]
    cpu: dict[str, float]
    rss_mb: dict[str, float]


class Sampler:
    """Once a second: what arrived per channel, each channel's consumer lag (end offsets minus
    its group's committed offsets, the way KEDA's Kafka scaler counts), CPU % and RSS of every
    process of the run, the servers and this one (which hosts the SMTP and sFTP servers)."""

    def __init__(
        self,
        platform: Platform,
        run: Run,
        receiver: Receiver,
        groups: dict[str, tuple[str, str]],  # channel -> (topic, consumer group)
        partitions: int,
    ) -> None:
        self.platform, self.run, self.receiver = platform, run, receiver
        self.groups, self.partitions = groups, partitions
        self.samples: list[Sample] = []
        self.per_partition: dict[str, list[int]] = {}  # channel -> end offset per partition
        self._procs: dict[str, psutil.Process] = {}

    def _processes(self) -> dict[str, psutil.Process]:
        """The processes to sample; one seen for the first time is primed (psutil's CPU % is
        since the previous call) and sampled from the next second on."""
        pids = {name: p.pid for name, p in self.run.processes.items()}
        for name, process in (
            ("kafka", self.platform.kafka_process),
            ("secantusdb", self.platform.mongo_process),
        ):
            if process is not None:
                pids[name] = process.pid
        pids["bench (SMTP + sFTP servers)"] = os.getpid()
        ready = {}
        for name, pid in pids.items():
            known = self._procs.get(name)
            if known is None or known.pid != pid:
                with contextlib.suppress(psutil.Error):
                    self._procs[name] = psutil.Process(pid)
                    self._procs[name].cpu_percent(None)
            else:
                ready[name] = known
        return ready

    async def lag(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> dict[str, int]:
        lags: dict[str, int] = {}
        for channel, (topic, group) in self.groups.items():
            tps = [TopicPartition(topic, p) for p in range(self.partitions)]
            try:
                ends = await consumer.end_offsets(tps)
                committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            except Exception:  # noqa: S112 - a topic not made yet, a group not joined yet
                continue
            self.per_partition[channel] = [ends[tp] for tp in tps]
            done = {tp: max(meta.offset, 0) for tp, meta in committed.items()}
            lags[channel] = sum(max(ends[tp] - done.get(tp, 0), 0) for tp in tps)
        return lags

    async def loop(self, stop: asyncio.Event, progress: Any) -> None:
        bootstrap = self.run.env["KAFKA_BOOTSTRAP_SERVERS"]
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await admin.start()
        await consumer.start()
        try:
            while not stop.is_set():
                started = time.monotonic()
                cpu, rss = {}, {}
                for name, proc in list(self._processes().items()):
                    with contextlib.suppress(psutil.Error):
                        cpu[name] = proc.cpu_percent(None)
                        rss[name] = proc.memory_info().rss / 2**20
                counts = await asyncio.to_thread(self.receiver.counts)
                lags = await self.lag(admin, consumer)
                self.samples.append(Sample(time.time(), counts, lags, cpu, rss))
                progress(counts, lags)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.05, 1 - (time.monotonic() - started)))
        finally:
            await consumer.stop()
            await admin.close()


class Progress:
    """One stderr line, rewritten (tqdm is not in the lock)."""

    def __init__(self, label: str, work: Any, submitter: Any) -> None:
        self.label, self.work, self.submitter = label, work, submitter
        self.start = time.monotonic()

    def __call__(self, counts: dict[str, int], lags: dict[str, int]) -> None:
        expected = Counter(c for c in self.work.documents.values() if c != "manual")
        total = sum(expected.values())
        done = sum(min(counts.get(c, 0), n) for c, n in expected.items())
        width = 24
        filled = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r{self.label:<14} [{'#' * filled}{'.' * (width - filled)}] "
            f"submitted {self.submitter.submitted} delivered {done}/{total} "
            f"lag {sum(lags.values()):>5} {time.monotonic() - self.start:6.1f} s "
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
