"""Issue 16 point 1: memory stays bounded. A 400 MB JSON body sent to the clients API (was: RSS
101 MB → 1.29 GB peak, 498 MB held after) is cut at its route's bound; RSS is sampled while it
streams. ``bench/bench_edge.py`` measures the same on a real uvicorn process."""

from __future__ import annotations

import gc
import threading
import time

import psutil

from tests.hardening.apps import bearer
from tests.hardening.wire import Apps, MiB, chunks, send


class PeakRss:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.thread.join()
        gc.collect()
        self.after = self.process.memory_info().rss


async def test_a_400_mb_json_body_keeps_memory_flat(apps: Apps) -> None:
    app = await apps.get("clients")
    await send(app, "POST", "/v1/clients", json={}, headers=bearer())  # warm the route up
    for headers, status in ((bearer(), 413), ({}, 401)):
        started = time.perf_counter()
        with PeakRss() as rss:
            sent = await send(
                app,
                "POST",
                "/v1/clients",
                content=chunks(400 * MiB, size=MiB),
                headers={**headers, "content-type": "application/json"},
            )
        elapsed = time.perf_counter() - started
        figures = (
            f"RSS {rss.before / MiB:.0f} MB → peak {rss.peak / MiB:.0f} MB, "
            f"after {rss.after / MiB:.0f} MB; {elapsed:.2f} s; read {sent.read} bytes"
        )
        print(figures)
        assert sent.status == status, figures
        assert rss.peak - rss.before < 32 * MiB, figures
        assert sent.read <= MiB, figures
        assert elapsed < 2.0, figures
