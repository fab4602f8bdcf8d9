"""The importer's worker: publishes confirmed imports (ImportValidated chunks) and consumes the
clients service's answers.

    python -m portal_importer.entrypoints.worker
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from portal_importer.adapters.mongo import MongoImports
from portal_importer.bootstrap import bootstrap
from portal_importer.config import Settings
from portal_importer.entrypoints.consumers import register_consumers
from portal_servicekit.logs import configure_logging


async def run(settings: Settings) -> None:
    wired = bootstrap(settings, with_broker=True)
    if wired.broker is None or wired.relay is None:
        raise RuntimeError("the worker needs the broker")
    if isinstance(wired.repository, MongoImports):
        await wired.repository.ensure_indexes()
    register_consumers(wired.broker, wired.topics, wired.repository)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # The producer first and the relay at once: joining the consumer groups takes seconds, and
    # imports confirmed meanwhile (or left unpublished by a crash) need not wait for it.
    await wired.broker.connect()
    wired.relay.start()
    await wired.broker.start()
    try:
        await stop.wait()
    finally:
        await wired.relay.stop()
        await wired.broker.stop()
        if wired.mongo is not None:
            await wired.mongo.close()


def main() -> None:
    configure_logging()
    asyncio.run(run(Settings()))


if __name__ == "__main__":
    main()
