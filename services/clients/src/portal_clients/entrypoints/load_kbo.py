"""`python -m portal_clients.entrypoints.load_kbo PATH` — load a KBO Open Data extract.

PATH is the zip as downloaded from the FPS Economy (KboOpenData_<n>_<yyyy>_<mm>_Full.zip or
..._Update.zip) or the folder it was unpacked into. A full extract replaces every enterprise;
an update applies its deletions then its insertions, and only on top of the extract numbered
just before it (anything else is refused, naming the number expected, and nothing changes).
Loading the same extract again after an interruption finishes it; one load runs at a time
(a servicekit Lease in ``leases``, renewed with every batch). Progress goes to stderr
every few seconds; the exit status is 0 when applied, 2 when refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO, TypeVar

from portal_clients.adapters.kbo_extract import ENTERPRISES, INSERTED, Extract
from portal_clients.adapters.mongo_kbo import APPLIED, LOADING, MongoKbo
from portal_clients.bootstrap import bootstrap
from portal_clients.domain.kbo import (
    STOPPED_SITUATIONS,
    ExtractMeta,
    ExtractOutOfOrder,
    ExtractType,
    KboFormatError,
    may_apply,
)
from portal_servicekit.leases import Lease
from portal_servicekit.logs import configure_logging

T = TypeVar("T")
BATCH = 5_000  # rows per bulk write: ~0.5 MB of documents, well under a 48 MB batch
LEASE, LEASE_TTL = "kbo-load", timedelta(minutes=2)  # a batch takes ~1.5 s


@dataclass
class Progress:
    """Rows written so far and the rate, printed every ``every_s`` seconds (and at the end)."""

    out: TextIO = sys.stderr
    every_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    rows: int = 0
    started: float = field(default=0.0)
    _last: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self._last = self.clock()

    def add(self, what: str, count: int) -> None:
        self.rows += count
        now = self.clock()
        if now - self._last >= self.every_s:
            self._last = now
            self.say(what)

    def say(self, what: str) -> None:
        elapsed = max(self.clock() - self.started, 1e-9)
        print(
            f"kbo: {what}: {self.rows:,} rows, {self.rows / elapsed:,.0f} rows/s",
            file=self.out,
            flush=True,
        )


class AnotherLoadRunning(ExtractOutOfOrder):
    """Two loads at once would interleave their writes: one at a time (a servicekit Lease)."""


async def load_extract(
    path: Path,
    store: MongoKbo,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
    lease: Lease | None = None,
) -> tuple[ExtractMeta, dict[str, int]]:
    """Apply one extract; ExtractOutOfOrder (nothing written) when it may not be applied now."""
    progress = progress or Progress()
    lease = lease or Lease(store.extracts.database["leases"], LEASE, ttl=LEASE_TTL)
    await _hold(lease)
    extract = await asyncio.to_thread(Extract, path)
    try:
        meta = await asyncio.to_thread(extract.meta)
        may_apply(meta, await store.last(APPLIED), await store.last(LOADING))
        labels = await asyncio.to_thread(extract.code_labels, "JuridicalSituation")
        _show_stopped(labels, progress.out)
        await store.begin(meta, datetime.now(UTC))
        counts = await _apply(extract, meta, store, batch, progress, lease)
        await store.applied(meta, counts, datetime.now(UTC))
    finally:
        extract.close()
        await lease.release()
    progress.say(f"extract {meta.number} ({meta.type.value}) applied")
    return meta, counts


def _show_stopped(labels: dict[str, str], out: TextIO) -> None:
    """The juridical situations refused as "stopped", as this extract's code.csv names them:
    the list in domain/kbo.py was not checked against an official code.csv, so whoever loads
    an extract sees here whether it still means what it should."""
    if not labels:
        return
    for code, meaning in STOPPED_SITUATIONS.items():
        print(
            f"kbo: refused as stopped: {code} ({meaning}): code.csv says "
            f"{labels.get(code, 'NOTHING (unknown code)')!r}",
            file=out,
        )


async def _hold(lease: Lease) -> None:
    """Taken before anything is written and renewed with every batch; lost (this process
    stalled past its TTL, another took over): stop, the other load finishes the work."""
    if not await lease.hold():
        raise AnotherLoadRunning("another KBO load is running; nothing loaded by this one")


async def _apply(
    extract: Extract,
    meta: ExtractMeta,
    store: MongoKbo,
    batch: int,
    progress: Progress,
    lease: Lease,
) -> dict[str, int]:
    counts = {"written": 0, "deleted": 0}
    if meta.type is ExtractType.UPDATE:
        async for numbers in _in_thread(extract.deleted(batch)):
            await _hold(lease)
            counts["deleted"] += await store.delete(numbers)
            progress.add("deleting", len(numbers))
    source = ENTERPRISES if meta.type is ExtractType.FULL else INSERTED
    if meta.type is ExtractType.UPDATE and not extract.has(INSERTED):
        return counts  # an update may only delete
    async for enterprises in _in_thread(extract.enterprises(source, batch)):
        await _hold(lease)
        await store.write(enterprises, meta.number)
        counts["written"] += len(enterprises)
        progress.add("writing", len(enterprises))
    if meta.type is ExtractType.FULL:
        counts["deleted"] = await store.delete_older_than(meta.number)
    return counts


async def _in_thread(batches: Iterator[T]) -> AsyncIterator[T]:
    """Each batch read (unzipped and parsed) in a thread, off the event loop."""
    while (item := await asyncio.to_thread(_next, batches)) is not None:
        yield item[0]


def _next(items: Iterator[T]) -> tuple[T] | None:
    try:
        return (next(items),)
    except StopIteration:
        return None


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal_clients.entrypoints.load_kbo")
    parser.add_argument("path", type=Path, help="an extract's zip, or the folder of its files")
    args = parser.parse_args(argv)
    configure_logging()
    service = bootstrap()
    store = MongoKbo(service.runtime.db)
    try:
        await store.prepare()
        meta, counts = await load_extract(args.path, store)
    except (ExtractOutOfOrder, KboFormatError) as refused:
        print(f"kbo: refused: {refused}", file=sys.stderr)
        return 2
    finally:
        await service.close()
    print(
        f"applied KBO extract {meta.number} ({meta.type.value}, snapshot "
        f"{meta.snapshot_date.isoformat()}): {counts['written']} written, "
        f"{counts['deleted']} deleted"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
