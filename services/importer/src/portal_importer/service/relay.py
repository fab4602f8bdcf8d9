"""The worker's relay: publishes confirmed imports (see ``publishing`` for the outbox and the
chunks), found through the hints the API drops after a confirmation, and by a scan of the
imports at start and every ``sweep_interval_s`` for a hint lost in a crash."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal_importer.domain.model import ImportRecord, ImportStatus
from portal_importer.ports import ImportRepository
from portal_importer.service.answers import apply_change
from portal_importer.service.publishing import Chunk, UnpublishableRows, build_chunks
from portal_servicekit.polling import PollingLoop

logger = logging.getLogger(__name__)


def _due(record: ImportRecord) -> bool:
    return (
        record.status is ImportStatus.CONFIRMED
        and record.confirmation is not None
        and not record.confirmation.published
    )


@dataclass
class ImportRelay:
    """Publishes confirmed imports; run by the worker, woken after a confirmation."""

    repository: ImportRepository
    publish: Callable[[Sequence[Chunk]], Awaitable[None]]  # all, in order, acknowledged
    poll_interval_s: float = 0.1
    sweep_interval_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _next_sweep: float = field(default=0.0, init=False)  # 0: sweep on the first pass
    _retry_at: dict[str, tuple[float, int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._loop = PollingLoop(
            self.relay_once, name="import-relay", poll_interval_s=self.poll_interval_s
        )

    async def relay_once(self) -> int:
        """Publishes what is due; returns the number of chunks published."""
        published = 0
        for office_id, import_id in await self.repository.announced(limit=20):
            if self._waiting(import_id):
                continue
            record = await self.repository.get(office_id, import_id)
            if record is not None and _due(record):
                done = await self._publish_safely(record)
                if done is None:
                    continue  # the hint stays: retried after a pause
                published += done
            await self.repository.forget_announcement(import_id)
        if self.clock() >= self._next_sweep:
            self._next_sweep = self.clock() + self.sweep_interval_s
            for record in await self.repository.unpublished(limit=20):
                if not self._waiting(record.import_id):
                    published += await self._publish_safely(record) or 0
        return published

    async def _publish_safely(self, record: ImportRecord) -> int | None:
        """One import; a failure pauses that import (growing pauses), not the others."""
        try:
            count = await self._publish(record)
        except asyncio.CancelledError:
            raise
        except Exception:
            _, failures = self._retry_at.get(record.import_id, (0.0, 0))
            pause = min(30.0, 0.5 * 2**failures)
            self._retry_at[record.import_id] = (self.clock() + pause, failures + 1)
            logger.exception("import %s not published; retried in %.1f s", record.import_id, pause)
            return None
        self._retry_at.pop(record.import_id, None)
        return count

    def _waiting(self, import_id: str) -> bool:
        retry = self._retry_at.get(import_id)
        return retry is not None and self.clock() < retry[0]

    async def _publish(self, record: ImportRecord) -> int:
        started = time.perf_counter()
        rows = await self.repository.rows(record, clients=True)
        if any(row.client is None for row in rows):  # older rows: normalised again from cells
            rows = await self.repository.rows(record, cells=True, clients=True)
        read = time.perf_counter()
        try:
            chunks = await asyncio.to_thread(build_chunks, record, rows)
        except UnpublishableRows as refused:
            # As if the clients service had refused them: back to pending, the rows flagged.
            rejections = refused.rejections
            await apply_change(
                self.repository,
                record.office_id,
                record.import_id,
                lambda r: r.rejected(record.version, rejections, datetime.now(UTC)),
            )
            logger.warning(
                "import %s v%d refused before publication: %s",
                record.import_id,
                record.version,
                rejections[:5],
            )
            return 0
        built = time.perf_counter()
        await self.publish(chunks)
        await self.repository.mark_published(record)
        logger.info(
            "import %s v%d published in %d chunk(s): rows read %.3f s, built %.3f s, sent %.3f s",
            record.import_id,
            record.version,
            len(chunks),
            read - started,
            built - read,
            time.perf_counter() - built,
        )
        return len(chunks)

    def wake(self) -> None:
        """Run a pass now rather than after the pause (called after a write with work)."""
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
