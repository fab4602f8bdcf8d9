"""The reference pull agent: what runs on an office's server (as OkiOkiSync does) and fetches the
office's documents into the folder its accounting software imports from.

    PORTAL_AGENT_TOKEN=pda_… python -m portal_delivery.agent --url https://api… --dir D:\\Inbox

It long-polls ``/agent/v1/feed``, downloads each item's files, writes each as
``.<name>.<item>.part`` in the client's folder, checks its size and sha256 against the feed,
fsyncs it and renames it onto its final name (the PDF before the UBL: importers key on the
XML), then acknowledges the item. Killed at any point it resumes: a ``.part`` left behind is
continued with ``Range`` (``If-Range`` the file's ETag), a final file already in place with the
right sha256 is not fetched again, and an item fetched but never acknowledged comes back when
its lease runs out and is acknowledged without a second download. Disk full or a folder it may
not write: it tells the server (``nack``), which tries again later. A revoked key (401): it
stops. Only httpx and the standard library: it can ship on its own.

The token comes from ``PORTAL_AGENT_TOKEN`` or ``--token-file`` (never the command line, which
other users of the machine can read), and is never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

logger = logging.getLogger("portal_delivery.agent")
CHUNK = 1024 * 1024


class Revoked(Exception):
    """The server refused the key (revoked, or its connection deleted)."""


def safe_folder(root: Path, folder: str) -> Path:
    """``folder`` (from the feed, relative) under ``root``; anything that would leave it is
    refused, whatever the server said."""
    parts = [p for p in folder.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." or ":" in p or p.startswith("~") for p in parts):
        raise ValueError(f"unsafe folder {folder!r}")
    target = root.joinpath(*parts)
    if root.resolve() not in (target.resolve(), *target.resolve().parents):
        raise ValueError(f"unsafe folder {folder!r}")
    return target


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _in_place(path: Path, size: int, sha256: str) -> bool:
    return path.is_file() and path.stat().st_size == size and _sha256_of(path) == sha256


def _append(part: Path, data: bytes, fresh: bool) -> None:
    part.parent.mkdir(parents=True, exist_ok=True)
    with part.open("wb" if fresh else "ab") as handle:
        handle.write(data)


def _commit(part: Path, final: Path, size: int, sha256: str, *, sync_folder: bool = True) -> None:
    """The part becomes the final file only whole, on disk, and right."""
    if part.stat().st_size != size or _sha256_of(part) != sha256:
        part.unlink(missing_ok=True)
        raise ValueError(f"{final.name}: size or sha256 differs from the feed's")
    with part.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(part, final)
    if sync_folder:
        _sync_folder(final.parent)


def _sync_folder(folder: Path) -> None:
    """The renames in ``folder`` on disk (POSIX; Windows has no directory handle to flush)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Agent:
    """Three loops in one process: the feed leases items while there is room, ``concurrency``
    workers fetch them (files of one item in order, items side by side), and the acknowledger
    sends what landed in batches (``POST /agent/v1/acks``, one request for up to ``limit``)."""

    def __init__(
        self,
        url: str,
        token: str,
        root: Path,
        *,
        concurrency: int = 8,
        wait_s: float = 20.0,
        limit: int = 50,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.root = root
        self.wait_s = wait_s
        self.limit = limit
        self.concurrency = concurrency
        self.http = client or httpx.AsyncClient(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(60.0, read=wait_s + 30),
            limits=httpx.Limits(max_connections=concurrency + 4),
        )
        self._disk = ThreadPoolExecutor(
            max_workers=concurrency * 2, thread_name_prefix="agent-disk"
        )
        self._revoked = False
        self.acknowledged = 0

    async def _io(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._disk, function, *args)

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        """Poll until ``stop`` (or, ``once``, until nothing is available)."""
        work: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        landed: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        busy: set[str] = set()
        workers = [
            asyncio.create_task(self._worker(work, landed, busy)) for _ in range(self.concurrency)
        ]
        acker = asyncio.create_task(self._acker(landed))
        try:
            await self._feed_loop(stop, once, work, busy)
        finally:
            for _ in workers:
                work.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            landed.put_nowait(None)
            await asyncio.gather(acker, return_exceptions=True)
        if self._revoked:
            raise Revoked

    async def _feed_loop(
        self, stop: asyncio.Event, once: bool, work: asyncio.Queue[Any], busy: set[str]
    ) -> None:
        pause = 1.0
        while not stop.is_set() and not self._revoked:
            if len(busy) >= self.limit:  # enough leased and not done yet: let the workers go on
                await asyncio.sleep(0.02)
                continue
            try:
                items = await self._feed(0.0 if once or busy else self.wait_s)
                pause = 1.0
            except Revoked:
                self._revoked = True
                return
            except httpx.HTTPError as exc:
                logger.warning("feed: %s; again in %.0f s", type(exc).__name__, pause)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(
                        pause
                    ):  # not wait_for: see portal_servicekit.polling
                        await stop.wait()
                pause = min(pause * 2, 60.0)
                continue
            for item in items:
                busy.add(item["item_id"])
                work.put_nowait(item)
            if not items:
                if once and not busy:
                    return
                if busy:
                    await asyncio.sleep(0.05)

    async def _feed(self, wait_s: float) -> list[dict[str, Any]]:
        answer = await self.http.get("/agent/v1/feed", params={"limit": self.limit, "wait": wait_s})
        if answer.status_code == 401:
            raise Revoked
        answer.raise_for_status()
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    async def _worker(
        self, work: asyncio.Queue[Any], landed: asyncio.Queue[Any], busy: set[str]
    ) -> None:
        while (item := await work.get()) is not None:
            try:
                if not self._revoked:
                    done = await self._item(item)
                    if done is not None:
                        landed.put_nowait(done)
            except Revoked:
                self._revoked = True
            finally:
                busy.discard(item["item_id"])

    async def _item(self, item: dict[str, Any]) -> dict[str, Any] | None:
        item_id = item["item_id"]
        try:
            folder = safe_folder(self.root, item["folder"])
            written = [await self._file(item_id, folder, f) for f in item["files"]]
            await self._io(_sync_folder, folder)  # the renames on disk before the ack
        except (OSError, ValueError) as exc:  # our disk, our folder: the server retries
            logger.warning("item %s: %s", item_id, exc)
            body = {"lease_token": item["lease_token"], "reason": str(exc)[:300]}
            await self._tell(f"items/{item_id}/nack", body)
            return None
        except httpx.HTTPError as exc:  # the item comes back when its lease runs out
            logger.warning("item %s: download failed: %s", item_id, type(exc).__name__)
            return None
        logger.info("item %s: %d file(s) in %s", item_id, len(written), item["folder"])
        return {"item_id": item_id, "lease_token": item["lease_token"], "files": written}

    async def _acker(self, landed: asyncio.Queue[Any]) -> None:
        batch: list[dict[str, Any]] = []
        while True:
            try:
                async with asyncio.timeout(0.1 if batch else None):  # a partial batch waits 0.1 s
                    entry = await landed.get()
            except TimeoutError:
                entry = "flush"
            if isinstance(entry, dict):
                batch.append(entry)
            if batch and (entry is None or entry == "flush" or len(batch) >= self.limit):
                await self._acknowledge(batch)
                batch = []
            if entry is None:
                return

    async def _acknowledge(self, batch: list[dict[str, Any]]) -> None:
        answer = await self._tell("acks", {"items": batch})
        if answer is None:
            return  # not acknowledged: the items come back when their leases run out
        outcomes = answer.get("items", {})
        self.acknowledged += sum(1 for state in outcomes.values() if state == "sent")
        for item_id, state in outcomes.items():
            if state != "sent":
                logger.warning("item %s: not acknowledged (%s)", item_id, state)

    async def _tell(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            answer = await self.http.post(f"/agent/v1/{path}", json=body)
        except httpx.HTTPError as exc:
            logger.warning("%s not sent (%s)", path, type(exc).__name__)
            return None
        if answer.status_code == 401:
            self._revoked = True
            return None
        if answer.status_code >= 400:
            logger.warning("%s refused (%d)", path, answer.status_code)
            return None
        told: dict[str, Any] = answer.json() if answer.content else {}
        return told

    async def _file(self, item_id: str, folder: Path, file: dict[str, Any]) -> dict[str, str]:
        name, size, sha256 = file["name"], int(file["size"]), file["sha256"]
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"unsafe file name {name!r}")
        final, part = folder / name, folder / f".{name}.{item_id}.part"
        record = {"name": name, "path": str(final.relative_to(self.root)), "sha256": sha256}
        if await self._io(_in_place, final, size, sha256):
            return record  # landed before a crash, or a lease that came back: not fetched again
        have = part.stat().st_size if part.is_file() else 0
        if have == size and await self._io(_in_place, part, size, sha256):
            await self._io(_commit, part, final, size, sha256)  # killed before the rename
            return record
        headers = {}
        if 0 < have < size:
            headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha256}"'}
        async with self.http.stream("GET", file["url"], headers=headers) as answer:
            if answer.status_code == 401:
                raise Revoked
            answer.raise_for_status()
            fresh = answer.status_code != 206
            buffer = bytearray()
            async for chunk in answer.aiter_bytes(CHUNK):
                buffer += chunk
                if len(buffer) >= CHUNK:
                    await self._io(_append, part, bytes(buffer), fresh)
                    buffer.clear()
                    fresh = False
            await self._io(_append, part, bytes(buffer), fresh)
        await self._io(functools.partial(_commit, sync_folder=False), part, final, size, sha256)
        return record

    async def aclose(self) -> None:
        await self.http.aclose()
        self._disk.shutdown(wait=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portal_delivery.agent", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", required=True, help="the delivery API, e.g. https://api.example")
    parser.add_argument("--dir", type=Path, required=True, help="where the documents go")
    parser.add_argument("--token-file", type=Path, help="else $PORTAL_AGENT_TOKEN")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--wait", type=float, default=20.0, help="long-poll seconds (≤ 30)")
    parser.add_argument("--once", action="store_true", help="fetch what is available, then stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its lines name URLs, not secrets
    token = (
        args.token_file.read_text().strip()
        if args.token_file
        else os.environ.get("PORTAL_AGENT_TOKEN", "")
    )
    if not token:
        print("no token: set PORTAL_AGENT_TOKEN or --token-file", file=sys.stderr)
        return 2
    args.dir.mkdir(parents=True, exist_ok=True)

    async def run() -> int:
        agent = Agent(args.url, token, args.dir, concurrency=args.concurrency, wait_s=args.wait)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            await agent.run(stop, once=args.once)
        except Revoked:
            logger.error("the server refused this agent's key (revoked?): stopping")
            return 3
        finally:
            await agent.aclose()
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
