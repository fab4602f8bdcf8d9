"""Delivery throughput per channel next to the bare client library, and DocumentReady → delivered
latency at a fixed arrival rate, measured at the receiving side in the same run.

    uv run python bench/bench_delivery.py [--n 2000] [--rate 20] [--seconds 20] [--pdf-kb 200]

Servers: KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI, else those of `make infra-up`, else a throwaway
Kafka and SecantusDB started here. Processes, as `make up` runs them: the SMTP catcher
(`portal_invitations.entrypoints.mail_catcher`, one .eml file per message), the local sFTP server
(`portal_delivery.entrypoints.sftp_server`), and the delivery planner, scheduler, e-mail and sFTP
workers. The bench publishes ClientCreated (clients set to e-mail and to sFTP), stores one UBL and
one PDF of ``--pdf-kb`` in the blob store, then publishes DocumentReady events (the PDF goes
beside the UBL: two files per document).

1. e-mail: N documents as fast as possible → N messages in the catcher; then bare aiosmtplib
   sends of the same messages (composed by the channel) over the same number of connections
   (DELIVERY_SMTP_CONNECTIONS, 8) to the same catcher. Goal: service ≥ 60 % of bare.
2. sFTP: N documents → 2N files on the server; then bare asyncssh uploads of the same files over
   the same number of sessions (2) to the same server. Goal: ≥ 60 %.
3. latency: ``--rate`` documents a second for ``--seconds`` (half e-mail, half sFTP), the time
   from publishing each DocumentReady to its last file on the receiving side. Goal: p95 < 1 s.

The service's figures include what the bare ones do not: Kafka (DocumentReady, the per-channel
request topic, DocumentDelivered), the ledger's transactions (plan, take, record), reading the
files from the blob store and checking their sha256. Figures go to stdout and
``bench/results/delivery.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncssh

from portal_contracts.broker import build_broker, publish_event
from portal_contracts.clients import (
    ClientCreated,
    ClientCreatedPayload,
    ClientSnapshot,
    ClientUser,
    Company,
    DeliveryTarget,
    EmailTarget,
    Integration,
    SendTiming,
    SftpTarget,
    Timing,
    VatCheck,
)
from portal_contracts.documents import DocumentReady, DocumentReadyPayload
from portal_contracts.topics import Topics
from portal_contracts.values import (
    ClientStatus,
    DocumentKind,
    Language,
    SubscriptionMode,
    TransferMethod,
    VatFrequency,
)
from portal_delivery.adapters.channels.email import EmailChannel, SmtpRelay
from portal_delivery.adapters.secrets import new_key_text
from portal_delivery.bootstrap import bootstrap
from portal_delivery.config import Settings
from portal_delivery.domain.connections import Kind, build
from portal_delivery.domain.planning import base_name, delivery_id
from portal_delivery.entrypoints import sftp_server
from portal_infra import kafka, local, mongodb
from portal_infra.process import ServerRecord, free_port, pid_alive, spawn, stop_process
from portal_servicekit.settings import PlatformSettings

OFFICE = "bench-office"
SFTP_USER, SFTP_PASSWORD = "bench", "bench-sftp-password-0001"
RESULTS = Path(__file__).resolve().parent / "results"


def servers(home: Path, started: list[subprocess.Popen[bytes]]) -> tuple[str, str]:
    urls: dict[str, str] = {}
    for env, name in (("KAFKA_BOOTSTRAP_SERVERS", "kafka"), ("MONGODB_URI", local.MONGODB)):
        if os.environ.get(env):
            urls[env] = os.environ[env]
            continue
        record = ServerRecord.load(local.state_dir(), name)
        if record is not None and pid_alive(record.pid):
            urls[env] = record.url
            continue
        print(f"# starting a throwaway {name} in {home}", flush=True)
        if name == "kafka":
            node = kafka.new_node(home / "kafka")
            started.append(kafka.start_and_wait(node))
            urls[env] = node.bootstrap
        else:
            mnode = mongodb.new_node(home / "mongodb", durable=False)
            started.append(mongodb.start_and_wait(mnode))
            urls[env] = mnode.uri
    return urls["KAFKA_BOOTSTRAP_SERVERS"], urls["MONGODB_URI"]


def snapshot(client_id: str, target: DeliveryTarget) -> ClientSnapshot:
    now = datetime.now(UTC)
    return ClientSnapshot(
        client_id=client_id,
        version=1,
        status=ClientStatus.ACTIVE,
        vat_check=VatCheck.VALID,
        created_at=now,
        updated_at=now,
        company=Company(
            vat_number="BE0403170701",
            name="Bench",
            vat_frequency=VatFrequency.MONTHLY,
            subscription_mode=SubscriptionMode.DELIVERY_ONLY,
        ),
        user=ClientUser(
            first_name="Bench",
            last_name="Client",
            email=f"{client_id}@bench.test",
            mobile_phone="+32470123456",
            language=Language.FR,
        ),
        group_id="everyone",
        integration=Integration(target=target, timing=Timing(when=SendTiming.IMMEDIATELY)),
    )


class Bench:
    def __init__(
        self, args: argparse.Namespace, home: Path, kafka_url: str, mongo_url: str
    ) -> None:
        self.args = args
        self.home = home
        self.run = uuid.uuid4().hex[:8]
        self.topics = Topics(f"bench.{self.run}.")
        self.mail_dir = home / "mail"
        self.sftp_root = home / "sftp-root"
        self.smtp_port, self.sftp_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_url,
            "MONGODB_URI": mongo_url,
            "PORTAL_JWT_KEY": "bench-key-not-a-secret-0123456789abcdef",
            "PORTAL_TOPIC_PREFIX": self.topics.prefix,
            "PORTAL_LOG_LEVEL": "WARNING",
            "DELIVERY_DATABASE": f"bench_{self.run}_delivery",
            "DELIVERY_BLOB_DATABASE": f"bench_{self.run}_blobs",
            "DELIVERY_CONSUMER_GROUP": f"bench-{self.run}",
            "DELIVERY_SECRETS_KEY": new_key_text(),
            "DELIVERY_SMTP_HOST": "127.0.0.1",
            "DELIVERY_SMTP_PORT": str(self.smtp_port),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.published_at: dict[str, float] = {}  # document id -> perf time of its publication

    def spawn(self, name: str, *command: str) -> None:
        self.processes[name] = spawn(
            [sys.executable, "-m", *command], self.home / "logs" / f"{name}.log", env=self.env
        )

    def start_processes(self) -> None:
        self.spawn(
            "smtp-catcher",
            "portal_invitations.entrypoints.mail_catcher",
            "--port",
            str(self.smtp_port),
            "--dir",
            str(self.mail_dir),
        )
        self.spawn(
            "sftp-server",
            "portal_delivery.entrypoints.sftp_server",
            "--port",
            str(self.sftp_port),
            "--root",
            str(self.sftp_root),
            "--host-key",
            str(self.home / "host_key"),
            "--user",
            SFTP_USER,
            "--password",
            SFTP_PASSWORD,
        )
        for role in ("planner", "scheduler", "email", "sftp"):
            self.spawn(f"delivery-{role}", "portal_delivery.entrypoints.worker", "--role", role)

    def stop_processes(self) -> None:
        for process in self.processes.values():
            stop_process(process, timeout=10)

    def settings(self) -> Settings:
        platform = PlatformSettings(
            KAFKA_BOOTSTRAP_SERVERS=self.env["KAFKA_BOOTSTRAP_SERVERS"],
            MONGODB_URI=self.env["MONGODB_URI"],
            PORTAL_JWT_KEY=self.env["PORTAL_JWT_KEY"],
            PORTAL_TOPIC_PREFIX=self.topics.prefix,
        )
        return Settings(
            platform=platform,
            database=self.env["DELIVERY_DATABASE"],
            blob_database=self.env["DELIVERY_BLOB_DATABASE"],
            secrets_key=self.env["DELIVERY_SECRETS_KEY"],
        )

    async def prepare(self) -> None:
        """The office's sFTP connection, the clients, and one UBL + PDF in the blob store."""
        for _ in range(100):
            if (self.home / "host_key").exists():
                break
            await asyncio.sleep(0.1)
        service = bootstrap(self.settings())
        await service.prepare()
        connection = build(
            OFFICE,
            "bench-sftp",
            Kind.SFTP,
            {
                "host": "127.0.0.1",
                "port": self.sftp_port,
                "username": SFTP_USER,
                "host_key": sftp_server.host_key_line(sftp_server.host_key(self.home / "host_key")),
            },
            {"password": SFTP_PASSWORD},
        )
        await service.deps.connections.save(connection, 0)
        from gridfs import AsyncGridFSBucket

        bucket = AsyncGridFSBucket(
            service.runtime.mongo[self.env["DELIVERY_BLOB_DATABASE"]], bucket_name="blobs"
        )
        self.ubl = (
            UBL := (
                b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
                + b"<Note>x</Note>" * 300
                + b"</Invoice>"
            )
        )
        self.pdf = b"%PDF-1.7\n" + os.urandom(self.args.pdf_kb * 1024)
        self.ubl_ref = await _blob(bucket, UBL, "invoice.xml", "application/xml")
        self.pdf_ref = await _blob(bucket, self.pdf, "invoice.pdf", "application/pdf")
        await service.close()

    async def publish_clients(self, broker: Any) -> None:
        for i in range(10):
            for channel, target in (
                ("mail", EmailTarget(sales=f"sales-{i}@yuki.test")),
                ("sftp", SftpTarget(connection="bench-sftp", folder=f"client-{i}")),
            ):
                await publish_event(
                    broker,
                    self.topics,
                    ClientCreated.new(
                        office_id=OFFICE,
                        payload=ClientCreatedPayload(client=snapshot(f"{channel}-{i}", target)),
                    ),
                )

    def ready_event(self, channel: str, i: int) -> DocumentReady:
        return DocumentReady.new(
            office_id=OFFICE,
            payload=DocumentReadyPayload(
                document_id=uuid.uuid4().hex,
                client_id=f"{channel}-{i % 10}",
                kind=DocumentKind.SALES_INVOICE,
                profile="peppol-bis3",
                ubl=self.ubl_ref,
                pdf=self.pdf_ref,
                pdf_beside=True,
            ),
        )

    def mails(self) -> int:
        return (
            sum(1 for e in os.scandir(self.mail_dir) if e.name.endswith(".eml"))
            if self.mail_dir.exists()
            else 0
        )

    def sftp_files(self) -> list[Path]:
        return [
            p for p in self.sftp_root.rglob("*") if p.is_file() and not p.name.endswith(".part")
        ]

    async def until(self, done: Any, total: int, what: str, limit_s: float = 900) -> float:
        start = time.perf_counter()
        shown = 0.0
        while (count := done()) < total:
            if time.perf_counter() - shown >= 1.0:  # a progress line a second
                _progress(what, count, total, time.perf_counter() - start)
                shown = time.perf_counter()
            if time.perf_counter() - start > limit_s:
                raise TimeoutError(f"{what}: {count} of {total} after {limit_s} s")
            await asyncio.sleep(0.1)
        _progress(what, total, total, time.perf_counter() - start)
        print(flush=True)
        return time.perf_counter() - start


async def _blob(bucket: Any, data: bytes, name: str, media: str) -> Any:
    import hashlib

    from portal_contracts.documents import BlobRef

    blob_id = await bucket.upload_from_stream(name, data)
    return BlobRef(
        blob_id=str(blob_id),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        filename=name,
        media_type=media,
    )


def _progress(what: str, count: int, total: int, elapsed: float) -> None:
    width = 30
    filled = int(width * count / max(total, 1))
    sys.stdout.write(
        f"\r  {what:<22} [{'#' * filled}{'.' * (width - filled)}] {count}/{total} {elapsed:6.1f} s"
    )
    sys.stdout.flush()


async def bare_smtp(bench: Bench, n: int, connections: int) -> float:
    """The same messages, composed by the channel, sent with bare aiosmtplib."""
    from portal_delivery.domain.delivery import Delivery, FileRef, State
    from portal_delivery.ports import Parcel

    relay = SmtpRelay("127.0.0.1", bench.smtp_port, "documents@bench.test", "bench.test")
    channel = EmailChannel(relay)
    files = [
        (
            FileRef("pdf", "b", "0" * 64, len(bench.pdf), "INV_00000000.pdf", "application/pdf"),
            bench.pdf,
        ),
        (
            FileRef("ubl", "b", "0" * 64, len(bench.ubl), "INV_00000000.xml", "application/xml"),
            bench.ubl,
        ),
    ]
    messages = []
    for i in range(n):
        delivery = Delivery(
            uuid.uuid4().hex,
            OFFICE,
            "c",
            "everyone",
            uuid.uuid4().hex,
            DocumentKind.SALES_INVOICE,
            TransferMethod.EMAIL,
            f"sales-{i % 10}@yuki.test",
            "",
            [f for f, _ in files],
            State.SENDING,
            None,
            datetime.now(UTC),
            {},
            str(uuid.uuid4()),
        )
        messages.append(channel.compose(Parcel(delivery, files, None, None)))
    before = bench.mails()
    slots = asyncio.Semaphore(connections)

    async def send(message: Any) -> None:
        async with slots:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=bench.smtp_port)

    start = time.perf_counter()
    await asyncio.gather(*(send(m) for m in messages))
    await bench.until(lambda: bench.mails() - before, n, "bare aiosmtplib")
    return time.perf_counter() - start


async def bare_sftp(
    bench: Bench,
    n: int,
    sessions: int,
    *,
    safe: bool = False,
    user: str = SFTP_USER,
    password: str = SFTP_PASSWORD,
    host_key: str = "host_key",
) -> float:
    """The same two files per document, uploaded with bare asyncssh over persistent sessions.

    ``safe``: as the channel writes them (a ``.part`` name, fsync, then a rename), to show how
    much of the gap is the protocol that keeps a half-written file from ever being seen.
    ``user``, ``password``, ``host_key`` (a file under ``bench.home``): another server's."""
    known = asyncssh.import_known_hosts(
        f"[127.0.0.1]:{bench.sftp_port} {sftp_server.host_key_line(sftp_server.host_key(bench.home / host_key))}\n"
    )
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def uploader() -> None:
        async with (
            asyncssh.connect(
                "127.0.0.1",
                port=bench.sftp_port,
                username=user,
                password=password,
                known_hosts=known,
                client_keys=None,
            ) as ssh,
            ssh.start_sftp_client() as sftp,
        ):
            folder = "bare-safe" if safe else "bare"
            await sftp.makedirs(folder, exist_ok=True)
            while not queue.empty():
                i = queue.get_nowait()
                for name, data in (
                    (f"{folder}/{i}.pdf", bench.pdf),
                    (f"{folder}/{i}.xml", bench.ubl),
                ):
                    target = f"{name}.part" if safe else name
                    async with sftp.open(target, "wb") as handle:
                        await handle.write(data)
                        if safe:
                            await handle.fsync()
                    if safe:
                        await sftp.posix_rename(target, name)

    start = time.perf_counter()
    await asyncio.gather(*(uploader() for _ in range(sessions)))
    return time.perf_counter() - start


async def latency(bench: Bench, broker: Any, rate: float, seconds: float) -> dict[str, list[float]]:
    """Publish ``rate`` documents a second; the time to each one's last received file."""
    events = [bench.ready_event("mail" if i % 2 else "sftp", i) for i in range(int(rate * seconds))]
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for i, event in enumerate(events):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await publish_event(broker, bench.topics, event)
        sent[event.payload.document_id] = time.time()
    deadline = time.perf_counter() + 120
    received: dict[str, float] = {}
    by_delivery = {
        delivery_id(
            e.payload.document_id,
            TransferMethod.EMAIL,
            f"sales-{int(e.payload.client_id.split('-')[1])}@yuki.test",
            "",
        ): e.payload.document_id
        for e in events
        if e.payload.client_id.startswith("mail")
    }
    by_stem = {
        base_name(e.payload.document_id, "invoice.xml"): e.payload.document_id for e in events
    }
    while len(received) < len(events) and time.perf_counter() < deadline:
        for entry in os.scandir(bench.mail_dir):
            ident = entry.name.split("-", 2)[-1].removesuffix(".eml")
            delivery = ident.removeprefix("delivery.").split("_")[0]
            if delivery in by_delivery and by_delivery[delivery] not in received:
                received[by_delivery[delivery]] = entry.stat().st_mtime
        for path in bench.sftp_files():
            if (
                path.suffix == ".xml"
                and path.stem in by_stem
                and by_stem[path.stem] not in received
            ):
                received[by_stem[path.stem]] = path.stat().st_mtime
        _progress("latency run", len(received), len(events), time.perf_counter() - start)
        await asyncio.sleep(1.0)
    print(flush=True)
    result: dict[str, list[float]] = {"email": [], "sftp": []}
    for event in events:
        doc = event.payload.document_id
        if doc in received:
            channel = "email" if event.payload.client_id.startswith("mail") else "sftp"
            result[channel].append(received[doc] - sent[doc])
    return result


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(
    args: argparse.Namespace, home: Path, kafka_url: str, mongo_url: str
) -> dict[str, Any]:
    bench = Bench(args, home, kafka_url, mongo_url)
    bench.start_processes()
    report: dict[str, Any] = {"n": args.n, "pdf_kb": args.pdf_kb}
    async with AsyncExitStack() as stack:
        stack.callback(bench.stop_processes)
        await bench.prepare()
        broker = build_broker(kafka_url, client_id="bench-delivery")
        await broker.start()
        stack.push_async_callback(broker.stop)
        await bench.publish_clients(broker)
        await asyncio.sleep(8)  # the workers join their groups and read the clients' settings
        n = args.n
        print(f"# e-mail: {n} documents (UBL + {args.pdf_kb} KB PDF beside it)", flush=True)
        start = time.perf_counter()
        for i in range(n):
            await publish_event(broker, bench.topics, bench.ready_event("mail", i))
        await bench.until(bench.mails, n, "service e-mail")
        service_mail = time.perf_counter() - start
        bare_mail = await bare_smtp(bench, n, 8)
        print(f"# sFTP: {n} documents (2 files each)", flush=True)
        start = time.perf_counter()
        for i in range(n):
            await publish_event(broker, bench.topics, bench.ready_event("sftp", i))
        await bench.until(lambda: len(bench.sftp_files()), 2 * n, "service sFTP")
        service_sftp = time.perf_counter() - start
        bare_sftp_s = await bare_sftp(bench, n, 2)
        bare_safe_s = await bare_sftp(bench, n, 2, safe=True)
        print(f"# latency: {args.rate}/s for {args.seconds} s", flush=True)
        lat = await latency(bench, broker, args.rate, args.seconds)
        report["email"] = {"service_per_s": n / service_mail, "bare_per_s": n / bare_mail}
        report["sftp"] = {
            "service_per_s": n / service_sftp,
            "bare_per_s": n / bare_sftp_s,
            "bare_same_protocol_per_s": n / bare_safe_s,
        }
        for channel in ("email", "sftp"):
            report[channel]["ratio"] = (
                report[channel]["service_per_s"] / report[channel]["bare_per_s"]
            )
            values = lat[channel]
            report[channel]["latency_s"] = {
                "count": len(values),
                "p50": pct(values, 0.5),
                "p95": pct(values, 0.95),
                "p99": pct(values, 0.99),
                "max": max(values) if values else float("nan"),
            }
        all_latencies = lat["email"] + lat["sftp"]
        report["latency_overall_s"] = {
            "p50": pct(all_latencies, 0.5),
            "p95": pct(all_latencies, 0.95),
            "p99": pct(all_latencies, 0.99),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--pdf-kb", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    started: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        home = Path(tmp)
        try:
            kafka_url, mongo_url = servers(home, started)
            report = asyncio.run(main_async(args, home, kafka_url, mongo_url))
        finally:
            for process in started:
                stop_process(process)
    print()
    print("| work | service | bare client, same run | ratio (goal) |")
    print("|---|---|---|---|")
    for channel, library in (("email", "aiosmtplib"), ("sftp", "asyncssh")):
        r = report[channel]
        print(
            f"| {channel}, {report['n']} documents | {r['service_per_s']:.1f}/s | {library} {r['bare_per_s']:.1f}/s | {r['ratio']:.0%} (≥ 60 %) |"
        )
    safe = report["sftp"]["bare_same_protocol_per_s"]
    print(
        f"| sftp, bare with the channel's protocol (.part, fsync, rename) | | asyncssh {safe:.1f}/s | {report['sftp']['service_per_s'] / safe:.0%} |"
    )
    for channel in ("email", "sftp"):
        lat = report[channel]["latency_s"]
        print(
            f"| DocumentReady → {channel} delivered at {args.rate:g}/s | p50 {lat['p50']:.2f} s, p95 {lat['p95']:.2f} s, p99 {lat['p99']:.2f} s ({lat['count']} documents) | | p95 < 1 s |"
        )
    overall = report["latency_overall_s"]
    print(
        f"| DocumentReady → delivered, both | p50 {overall['p50']:.2f} s, p95 {overall['p95']:.2f} s | | p95 < 1 s |"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "delivery.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"# figures in {RESULTS / 'delivery.json'}")


if __name__ == "__main__":
    main()
