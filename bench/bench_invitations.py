"""Invitations per second for N ClientCreated with the invite flag, next to raw aiosmtplib sends
of the same messages to the same SMTP catcher, in the same run.

    uv run python bench/bench_invitations.py [--n 10000] [--concurrency 8] [--private-mongodb]

Needs the local Kafka and MongoDB-wire server (`make infra-up`, or KAFKA_BOOTSTRAP_SERVERS /
MONGODB_URI).
Steps: start the mail catcher (`python -m portal_invitations.entrypoints.mail_catcher`, storing
.eml files in a temporary directory); publish N ClientCreated(invite=true) events for one office
on fresh topics; start the invitations worker (consumer → MongoDB → sender → SMTP, outbox relay)
with the per-office limit lifted, and time until N e-mails sit in the catcher's directory. Right
before and right after, send N messages rendered by the same templates with bare aiosmtplib
over the same number of persistent connections to the same catcher, and time that: the ratio
is taken against the mean of the two (the machine is shared: its load drifts within a run, and
both raw figures are printed). The service's figure includes
everything the raw one does not: Kafka consumption and offset commits, the read model and queue
writes, claiming each attempt, composing each e-mail (the raw run sends messages composed
beforehand), recording its outcome, and publishing ClientInvited. It is counted from the end of
the worker's start-up (joining the consumer group takes a few seconds), printed apart.
At 10,000 the run takes about three minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import ClientCreated, ClientCreatedPayload, ClientSnapshot
from portal_contracts.topics import Topics
from portal_infra import local, mongodb
from portal_infra.process import ServerRecord, free_port, pid_alive, stop_process
from portal_invitations.adapters import invitation_mail
from portal_invitations.bootstrap import bootstrap, mail_sender_identity
from portal_invitations.config import Settings
from portal_invitations.domain.model import ClientAccess, ClientProfile, Invitation
from portal_invitations.domain.tokens import new_token
from portal_invitations.entrypoints.worker import create_worker
from portal_servicekit.mongo import connect
from portal_servicekit.settings import PlatformSettings

OFFICE = "bench-office"
JWT_KEY = "bench-key-for-the-invitations-service-0123456789"


def client_created(client_id: str, email: str) -> ClientCreated:
    now = datetime.now(UTC)
    client = ClientSnapshot.model_validate(
        {
            "client_id": client_id, "version": 1, "status": "not_invited",
            "vat_check": "skipped", "created_at": now, "updated_at": now, "group_id": "everyone",
            "company": {"vat_number": "BE0403170701", "name": "Dubois SRL",
                        "vat_frequency": "quarterly", "subscription_mode": "full_follow_up"},
            "user": {"first_name": "Marie", "last_name": "Dubois", "email": email,
                     "mobile_phone": "+32470123456", "language": "fr"},
            "bank_accounts": [],
        }
    )  # fmt: skip
    return ClientCreated.new(
        office_id=OFFICE, payload=ClientCreatedPayload(client=client, invite=True)
    )


def server_url(env: str, name: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    record = ServerRecord.load(local.state_dir(), name)
    if record is None or not pid_alive(record.pid):
        sys.exit(f"no {name}: run `make infra-up` or set {env}")
    return record.url


def eml_count(directory: Path) -> int:
    with os.scandir(directory) as entries:
        return sum(1 for e in entries if e.name.endswith(".eml"))


async def wait_for_files(directory: Path, count: int, limit_s: float) -> float:
    start = time.perf_counter()
    while eml_count(directory) < count:
        if time.perf_counter() - start > limit_s:
            raise TimeoutError(f"{eml_count(directory)} of {count} e-mails after {limit_s} s")
        await asyncio.sleep(0.25)  # a scan of thousands of files costs the service's CPU
    return time.perf_counter() - start


def start_catcher(port: int, directory: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "portal_invitations.entrypoints.mail_catcher"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            asyncio.run(asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1))
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("the mail catcher did not start")


async def produce(kafka: str, topics: Topics, n: int) -> float:
    producer = build_broker(kafka, client_id="bench-clients-service")
    await producer.start()
    start = time.perf_counter()
    try:
        async with asyncio.timeout(max(120.0, n / 20)):  # a stuck broker fails the run
            await publish_all(producer, topics, n)
    finally:
        await producer.stop()
    return time.perf_counter() - start


async def publish_all(producer: Any, topics: Topics, n: int) -> None:
    for first in range(0, n, 500):
        await asyncio.gather(
            *(
                publish_event(
                    producer, topics, client_created(f"bench-{i:06d}", f"client{i}@example.be")
                )
                for i in range(first, min(n, first + 500))
            )
        )


async def run_service(
    settings: Settings, directory: Path, n: int, before: int
) -> tuple[float, float, float]:
    """Start-up (consumer group join, ...), then the time to N e-mails and to an empty outbox
    (every ClientInvited published), both counted from the end of start-up."""
    service = bootstrap(settings)
    await service.runtime.mongo.drop_database(settings.database)
    worker = create_worker(service)
    begin = time.perf_counter()
    await worker.start()
    start = time.perf_counter()
    try:
        elapsed = await wait_for_files(directory, before + n, limit_s=max(1800.0, n * 1.0))
        outbox = service.runtime.db["outbox"]
        while await outbox.find_one({}) is not None:  # noqa: ASYNC110 - polling another process's work
            await asyncio.sleep(0.1)
        drained = time.perf_counter() - start
    finally:
        await worker.stop()  # closes the service
        cleanup = connect(settings.platform.mongodb_uri, app_name="bench")
        await cleanup.drop_database(settings.database)
        await cleanup.close()
    return start - begin, elapsed, drained


def raw_messages(settings: Settings, n: int) -> list[Any]:
    identity = mail_sender_identity(settings)
    now = datetime.now(UTC)
    messages = []
    for i in range(n):
        profile = ClientProfile(
            f"raw-{i:06d}", OFFICE, "everyone", f"client{i}@example.be", "Marie", "Dubois",
            "fr", "full_follow_up", "not_invited", "+32470123456", 1,
        )  # fmt: skip
        inv = Invitation(str(uuid.uuid4()), profile.email, now, "import",
                         expires_at=now + timedelta(days=14))  # fmt: skip
        access = ClientAccess(profile=profile, invitation=inv)
        messages.append(
            invitation_mail.compose(access, inv, new_token(), "Fiduciaire Bench", identity, now)
        )
    return messages


async def run_raw(port: int, messages: list[Any], connections: int) -> float:
    async def lane(share: list[Any]) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=30)
        await smtp.connect()
        for message in share:
            await smtp.send_message(message)
        await smtp.quit()

    start = time.perf_counter()
    await asyncio.gather(*(lane(messages[k::connections]) for k in range(connections)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="ClientCreated events (10,000)")
    parser.add_argument("--concurrency", type=int, default=8, help="SMTP connections, both sides")
    parser.add_argument(
        "--private-mongodb",
        action="store_true",
        help="start a throwaway SecantusDB (temporary directory) instead of the shared one",
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-invitations-"))
    kafka = server_url("KAFKA_BOOTSTRAP_SERVERS", "kafka")
    private = None
    if args.private_mongodb:
        node = mongodb.new_node(home / "mongodb", durable=False)
        private = mongodb.start_and_wait(node)
        mongodb_uri = node.uri
    else:
        mongodb_uri = server_url("MONGODB_URI", local.MONGODB)
    port = free_port()
    catcher = start_catcher(port, home / "mail")
    run_id = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"bench.{run_id}.")
    platform = PlatformSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka, MONGODB_URI=mongodb_uri, PORTAL_JWT_KEY=JWT_KEY,
        PORTAL_TOPIC_PREFIX=topics.prefix,
    )  # fmt: skip
    settings = Settings(
        platform=platform, database=f"bench_invitations_{run_id}", smtp_host="127.0.0.1",
        smtp_port=port, smtp_security="none", smtp_timeout_s=30,
        mail_from="no-reply@portal.example", office_names={OFFICE: "Fiduciaire Bench"},
        office_hourly_limit=0, send_concurrency=args.concurrency,
        smtp_pool_size=args.concurrency, send_batch=max(200, args.concurrency * 25),
        send_poll_interval_s=0.2,
        consumer_group=f"bench-invitations-{run_id}",  # a shared group rebalances with others
    )  # fmt: skip
    try:
        produced = asyncio.run(produce(kafka, topics, args.n))
        raw_before_s = asyncio.run(run_raw(port, raw_messages(settings, args.n), args.concurrency))
        asyncio.run(wait_for_files(home / "mail", args.n, limit_s=120))
        gc.collect()  # the raw messages are not kept for the garbage collector to walk meanwhile
        startup_s, service_s, drained_s = asyncio.run(
            run_service(settings, home / "mail", args.n, before=args.n)
        )
        raw_after_s = asyncio.run(run_raw(port, raw_messages(settings, args.n), args.concurrency))
        asyncio.run(wait_for_files(home / "mail", 3 * args.n, limit_s=120))
    finally:
        catcher.terminate()
        catcher.wait(timeout=10)
        if private is not None:
            stop_process(private)
        shutil.rmtree(home, ignore_errors=True)

    print(f"N = {args.n} ClientCreated(invite=true), one office, limit lifted, "
          f"{args.concurrency} SMTP connections; Kafka {kafka}, MongoDB-wire {mongodb_uri}"
          f"{' (private throwaway SecantusDB)' if private else ''}")  # fmt: skip
    print(f"  events published beforehand         {args.n / produced:10.0f} events/s")
    print(f"  service: ClientCreated -> e-mail     {args.n / service_s:10.1f} invitations/s "
          f"({service_s:.1f} s; every ClientInvited published after {drained_s:.1f} s; "
          f"worker start-up before both {startup_s:.1f} s)")  # fmt: skip
    raw_s = (raw_before_s + raw_after_s) / 2
    print(f"  raw aiosmtplib, same messages        {args.n / raw_s:10.1f} messages/s "
          f"(before {args.n / raw_before_s:.1f}/s, after {args.n / raw_after_s:.1f}/s)")  # fmt: skip
    print(f"  service / raw                        {raw_s / service_s:10.1%}")


if __name__ == "__main__":
    main()
