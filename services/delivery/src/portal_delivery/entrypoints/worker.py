"""`python -m portal_delivery.entrypoints.worker --role planner|scheduler|email|sftp|onedrive|clearfacts`.

One process per role, each deployable and scalable on its own: the planner consumes
DocumentReady and the settings; the scheduler dispatches what is due; a channel's worker
consumes its own request topic (an sFTP outage only grows the sFTP lag). Every role also runs
the outbox relay (one replica of the service relays at a time). The agent channel has no
worker: its deliveries are pulled through the API (the scheduler makes them available).
"""

from __future__ import annotations

import argparse
import asyncio

from faststream import FastStream
from faststream.kafka import KafkaRouter

from portal_contracts.values import TransferMethod
from portal_delivery.bootstrap import Service, bootstrap, build_channel
from portal_delivery.entrypoints.consumers import build_channel_router, build_router
from portal_delivery.service.sending import dispatch_due
from portal_servicekit.polling import PollingLoop
from portal_servicekit.runtime import Background, worker_app

# A channel worker's role and its channel (Clearfacts is the "api" channel; its role has its
# own name, so its Deployment is not confused with the delivery API's).
CHANNEL_ROLES = {
    "email": TransferMethod.EMAIL,
    "sftp": TransferMethod.SFTP,
    "onedrive": TransferMethod.ONEDRIVE,
    "clearfacts": TransferMethod.API,
}
ROLES = ("planner", "scheduler", *CHANNEL_ROLES)


def create_worker(service: Service | None = None, role: str = "planner") -> FastStream:
    service = service or bootstrap(channel_worker=role not in ("planner", "scheduler"))
    background: list[Background] = []
    router = KafkaRouter()
    if role == "planner":
        router = build_router(service)
    elif role == "scheduler":

        async def scheduler_pass() -> int:
            return await dispatch_due(service.deps)

        background.append(
            PollingLoop(
                scheduler_pass,
                name="delivery-scheduler",
                poll_interval_s=service.settings.scheduler_interval_s,
            )
        )
    else:
        method = CHANNEL_ROLES[role]
        channel = build_channel(service.settings, method)
        router = build_channel_router(service, method, channel, role=role)
    return worker_app(service.runtime, router, prepare=service.prepare, background=background)


def main() -> None:
    parser = argparse.ArgumentParser(prog="portal_delivery.entrypoints.worker")
    parser.add_argument("--role", choices=ROLES, default="planner")
    args = parser.parse_args()
    asyncio.run(create_worker(role=args.role).run())


if __name__ == "__main__":
    main()
