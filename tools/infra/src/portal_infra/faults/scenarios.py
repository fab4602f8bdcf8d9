"""Fault scenarios over a :class:`~portal_infra.faults.platform.Platform`, and the invariants
checked at the receiving side once the system recovered.

A scenario: an office with clients on e-mail and on sFTP, ``documents`` sales invoices submitted
through the ubl API (a document counts once the API accepted it), one fault injected while they
flow, then recovery; then: every accepted document delivered exactly once per target (by its
content hash and name), the ledger agreeing with what was received, no ``.part`` file left,
nothing stuck, every failure visible with its reason, and the sFTP password in no log line.

E-mail is checked by Message-ID: the channel resends under the same Message-ID when it cannot
know whether the relay took a message (RFC 1047's window), which the recipient recognises, so
"once" for e-mail is one distinct Message-ID per delivery; raw resends are counted apart.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import httpx

from portal_infra.faults.platform import (
    DELIVERY_ROLES,
    SFTP_PASSWORD,
    Platform,
    Run,
    connection_bodies,
)

Fault = Callable[[Run, Platform, random.Random], Coroutine[Any, Any, None]]
TERMINAL = {"sent", "failed", "cancelled", "recorded"}


async def kill_planner(run: Run, platform: Platform, rng: random.Random) -> None:
    run.kill("delivery-planner")
    await asyncio.sleep(rng.uniform(1, 4))
    run.start("delivery-planner")


async def kill_channel_worker(run: Run, platform: Platform, rng: random.Random) -> None:
    role = rng.choice(["email", "sftp"])
    run.kill(f"delivery-{role}")
    await asyncio.sleep(rng.uniform(1, 4))
    run.start(f"delivery-{role}")


async def kill_ubl_worker(run: Run, platform: Platform, rng: random.Random) -> None:
    run.kill("ubl-worker")
    await asyncio.sleep(rng.uniform(1, 4))
    run.start("ubl-worker")


async def kill_clients_worker(run: Run, platform: Platform, rng: random.Random) -> None:
    """Killed while clients are being added: their ClientCreated wait in the outbox."""
    run.kill("clients-worker")
    await _add_clients(run, 2, start=len(run.clients))
    await asyncio.sleep(rng.uniform(1, 4))
    run.start("clients-worker")


async def restart_broker(run: Run, platform: Platform, rng: random.Random) -> None:
    platform.stop_kafka()
    await asyncio.sleep(rng.uniform(3, 8))
    await asyncio.to_thread(platform.start_kafka)


async def pause_database(run: Run, platform: Platform, rng: random.Random) -> None:
    platform.pause_mongodb()
    await asyncio.sleep(10)
    platform.resume_mongodb()


async def smtp_defers_then_down(run: Run, platform: Platform, rng: random.Random) -> None:
    platform.mailbox.mode = "defer"
    await asyncio.sleep(rng.uniform(4, 8))
    await platform.smtp_down()
    await asyncio.sleep(rng.uniform(4, 8))
    await platform.smtp_up()


async def sftp_down(run: Run, platform: Platform, rng: random.Random) -> None:
    await platform.sftp_down()
    await asyncio.sleep(rng.uniform(5, 12))
    await platform.sftp_up()


async def graph_throttles_then_unavailable(
    run: Run, platform: Platform, rng: random.Random
) -> None:
    """Microsoft Graph answering every call with 429 (throttled) for a few seconds, then with
    503, each with Retry-After, as it throttles a tenant: the OneDrive worker waits as told and
    resumes; the other channels do not notice."""
    async with httpx.AsyncClient(base_url=run.fake_url("graph"), timeout=10) as http:
        for fault in ("throttle_for_s", "unavailable_for_s"):
            seconds = rng.uniform(3, 8)
            body = {fault: seconds, "retry_after": rng.randint(1, 3)}
            answer = await http.post("/_fake/faults", json=body)
            answer.raise_for_status()
            await asyncio.sleep(seconds)


async def cut_worker_from_broker(run: Run, platform: Platform, rng: random.Random) -> None:
    """A network partition between the e-mail worker and Kafka (Toxiproxy)."""
    platform.proxy.cut("kafka")
    await asyncio.sleep(rng.uniform(5, 12))
    platform.proxy.heal("kafka")


FAULTS: dict[str, Fault] = {
    "kill-planner": kill_planner,
    "kill-channel-worker": kill_channel_worker,
    "kill-ubl-worker": kill_ubl_worker,
    "kill-clients-worker": kill_clients_worker,
    "broker-restart": restart_broker,
    "database-paused": pause_database,
    "smtp-4xx-then-down": smtp_defers_then_down,
    "sftp-down": sftp_down,
    "partition-worker-broker": cut_worker_from_broker,
    "graph-429-then-503": graph_throttles_then_unavailable,
}
# The channels of a fault's run: e-mail and sFTP, and OneDrive where the fault is Graph's.
CHANNELS: dict[str, tuple[str, ...]] = {"graph-429-then-503": ("email", "sftp", "onedrive")}
PLAIN = ("email", "sftp")


@dataclass
class Outcome:
    fault: str
    accepted: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    resent_same_id: int = 0  # e-mails resent under the same Message-ID (recognisable)
    stuck: int = 0
    failed_visible: int = 0
    leftover_parts: int = 0
    ledger_disagrees: int = 0
    secret_in_logs: int = 0
    fault_unseen: int = 0  # the fault struck nothing (a fake refused no call): proves nothing
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.stuck
            or self.leftover_parts
            or self.ledger_disagrees
            or self.secret_in_logs
            or self.fault_unseen
        )


async def scenario(
    platform: Platform, fault: str, *, documents: int = 60, seed: int = 0, settle_s: float = 240
) -> Outcome:
    rng = random.Random(seed)  # noqa: S311 - which fault when, not a secret
    outcome = Outcome(fault)
    started = time.monotonic()
    channels = CHANNELS.get(fault, PLAIN)
    roles = (*DELIVERY_ROLES, "onedrive") if "onedrive" in channels else DELIVERY_ROLES
    async with platform.run(fault, roles=roles) as run:
        run.channels = channels
        await _office(run, platform)
        await _add_clients(run, 6)
        accepted: dict[str, dict[str, Any]] = {}  # document id -> ubl's answer + channel
        inject_at = rng.randint(documents // 5, documents // 2)
        injecting: asyncio.Task[None] | None = None
        for i in range(documents):
            if i == inject_at:
                injecting = asyncio.create_task(FAULTS[fault](run, platform, rng))
            client_id = list(run.clients)[i % len(run.clients)]
            answer = await _submit(run, client_id, i + seed * 100_000)
            if answer is not None:
                accepted[answer["document_id"]] = {**answer, "channel": run.clients[client_id]}
        if injecting is not None:
            await injecting
        outcome.accepted = len(accepted)
        ledger = await _settle(run, accepted, settle_s)
        _check(platform, run, accepted, ledger, outcome)
        if "onedrive" in channels:
            async with httpx.AsyncClient(base_url=run.fake_url("graph"), timeout=10) as http:
                refused = (await http.get("/_fake/stats")).json()["throttled"]
            outcome.notes.append(f"Graph refused {refused} calls (429, then 503)")
            outcome.fault_unseen = int(refused == 0)
    outcome.seconds = time.monotonic() - started
    return outcome


async def _office(run: Run, platform: Platform) -> None:
    headers = {"Authorization": f"Bearer {run.token()}"}
    async with httpx.AsyncClient(timeout=30) as http:
        bodies = connection_bodies(platform)
        for kind in ("sftp", "onedrive"):
            if kind == "sftp" or kind in run.channels:
                made = await http.post(
                    run.url("delivery") + "/v1/connections", headers=headers, json=bodies[kind]
                )
                assert made.status_code == 201, made.text  # noqa: S101
        settings = await http.put(
            run.url("clients") + "/v1/settings",
            headers={**headers, "If-Match": "*"},
            json={
                "enabled_transfer_methods": ["manual", *run.channels],
                "accounting_softwares": ["yuki", "winbooks", "exact_online"],
                "default_timing": {"when": "immediately"},
            },
        )
        assert settings.status_code == 200, settings.text  # noqa: S101


async def _add_clients(run: Run, count: int, start: int = 0) -> None:
    headers = {"Authorization": f"Bearer {run.token()}"}
    async with httpx.AsyncClient(timeout=30) as http:
        for n in range(start, start + count):
            channel = run.channels[n % len(run.channels)]
            target: dict[str, Any] = {
                "email": {"kind": "email", "sales": f"sales{n}@software-{run.run_id}.be"},
                "sftp": {"kind": "sftp", "connection": "Kantoor", "folder": f"client{n}"},
                "onedrive": {"kind": "onedrive", "folder": f"client{n}"},
            }[channel]
            base = 4_000_000 + (hash(run.run_id) % 500_000) * 10 + n
            vat = f"{base:08d}{97 - base % 97:02d}"
            integration = {
                "target": target,
                "timing": {"when": "immediately"},
                "accounting_software": {"email": "yuki", "sftp": "winbooks"}.get(
                    channel, "exact_online"
                ),
            }
            form = client_form(n, run.run_id, vat, integration)
            add = functools.partial(
                http.post,
                run.url("clients") + "/v1/clients?skip_vat_check=true",
                headers=headers,
                json=form,
            )
            answer = await _retrying(add)
            run.clients[answer.json()["client_id"]] = channel


def client_form(n: int, run_id: str, vat: str, integration: dict[str, Any]) -> dict[str, Any]:
    """The n-th client of a run as the clients API takes it (the fan-out bench adds the same)."""
    return {
        "company": {
            "vat_number": f"BE{vat}",
            "name": f"Client {n}",
            "vat_frequency": "quarterly",
            "subscription_mode": "full_follow_up",
        },
        "user": {
            "first_name": "An",
            "last_name": "Peeters",
            "email": f"an{n}@client-{run_id}.be",
            "mobile_phone": "0470 12 34 56",
            "language": "nl",
        },
        "bank_accounts": ["BE68 5390 0754 7034"],
        "integration": integration,
    }


async def _retrying(
    call: Callable[[], Awaitable[httpx.Response]], limit_s: float = 120
) -> httpx.Response:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            answer = await call()
            if answer.status_code < 500 and answer.status_code != 429:
                return answer
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the API never answered")
        await asyncio.sleep(1)


async def _submit(run: Run, client_id: str, n: int) -> dict[str, Any] | None:
    """Submit one sales invoice; the same content again after an error (ubl's idempotency key
    makes a resubmission of an accepted document return it, never a second one)."""
    from portal_ubl.samples import make_pdf, sample_data

    headers = {"Authorization": f"Bearer {run.token()}"}
    data = json.dumps(sample_data(lines=2, number=f"F-{n:07d}"))
    pdf = make_pdf(text=f"Invoice {n}")
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < deadline:
            try:
                answer = await http.post(
                    run.url("ubl") + "/v1/documents",
                    headers=headers,
                    data={"kind": "sales_invoice", "client_id": client_id, "data": data},
                    files={"pdf": (f"F-{n}.pdf", pdf, "application/pdf")},
                )
                if answer.status_code in (200, 201):
                    return dict(answer.json())
                if answer.status_code == 422 and answer.json().get("code") != "client.unknown":
                    return None  # refused for good: not accepted
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    return None


async def _settle(run: Run, accepted: dict[str, dict[str, Any]], limit_s: float) -> dict[str, Any]:
    """Wait until every accepted document has a delivery in a terminal state (or the limit)."""
    headers = {"Authorization": f"Bearer {run.token()}"}
    deadline = time.monotonic() + limit_s
    ledger: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < deadline:
            try:
                ledger = await _ledger(http, run, headers)
            except (httpx.HTTPError, KeyError, ValueError):  # the API recovering: ask again
                await asyncio.sleep(2)
                continue
            if all(d in ledger and ledger[d]["state"] in TERMINAL for d in accepted):
                return ledger
            await asyncio.sleep(2)
    return ledger


async def _ledger(http: httpx.AsyncClient, run: Run, headers: dict[str, str]) -> dict[str, Any]:
    ledger: dict[str, Any] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        answer = await http.get(
            run.url("delivery") + "/v1/deliveries", headers=headers, params=params
        )
        page = answer.json()
        for item in page["items"]:
            ledger[item["document_id"]] = item
        cursor = page.get("next_cursor")
        if not cursor:
            return ledger


def _check(
    platform: Platform,
    run: Run,
    accepted: dict[str, dict[str, Any]],
    ledger: dict[str, Any],
    outcome: Outcome,
) -> None:
    by_message_id = Counter(mid for mid, _ in platform.mailbox.messages)
    received_ubl: dict[str, str] = {}  # Message-ID -> sha256 of its UBL attachment
    for mid, raw in platform.mailbox.messages:
        parsed = message_from_bytes(raw, policy=policy.default)
        for part in parsed.iter_attachments():
            if (part.get_filename() or "").endswith(".xml"):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    received_ubl[mid] = hashlib.sha256(payload).hexdigest()
    outcome.resent_same_id = sum(count - 1 for count in by_message_id.values())
    graph = run.received / "graph"
    files = [p for root in (platform.sftp_root, graph) for p in root.rglob("*") if p.is_file()]
    outcome.leftover_parts = sum(1 for p in files if p.name.endswith(".part"))
    xml_by_doc: Counter[str] = Counter()
    xml_sha: dict[str, str] = {}
    for path in files:
        if path.suffix == ".xml":
            suffix = path.stem.rsplit("_", 1)[-1]  # base names end in the document id's prefix
            xml_sha[suffix] = hashlib.sha256(path.read_bytes()).hexdigest()
            if not path.is_relative_to(graph):
                xml_by_doc[suffix] += 1
    # A second upload to OneDrive under one name replaces the file: the fake's commits count.
    commits = graph / "commits.log"
    for line in commits.read_text().splitlines() if commits.exists() else []:
        if line.endswith(".xml"):
            xml_by_doc[line.removesuffix(".xml").rsplit("_", 1)[-1]] += 1
    for document_id, answer in accepted.items():
        entry = ledger.get(document_id)
        if entry is None or entry["state"] not in TERMINAL:
            outcome.stuck += 1
            outcome.notes.append(f"{document_id}: {entry['state'] if entry else 'no delivery'}")
            continue
        if entry["state"] == "failed":
            outcome.failed_visible += 1 if entry.get("last_error") else 0
            outcome.lost += 1
            outcome.notes.append(f"{document_id}: failed — {entry.get('last_error_code')}")
            continue
        expected = answer["ubl"]["sha256"]
        sent = {f["name"].rsplit(".", 1)[-1]: f["sha256"] for f in entry["attempts"][-1]["sent"]}
        if sent.get("xml") != expected:
            outcome.ledger_disagrees += 1
        if answer["channel"] == "email":
            mid = entry["attempts"][-1]["receipt"].get("message_id")
            if mid not in by_message_id:
                outcome.lost += 1
                continue
            if received_ubl.get(mid) != expected:
                outcome.ledger_disagrees += 1
        else:
            key = document_id[:8]
            if xml_by_doc[key] == 0:
                outcome.lost += 1
                continue
            if xml_by_doc[key] > 1:
                outcome.duplicated += xml_by_doc[key] - 1
            if xml_sha.get(key) != expected:
                outcome.ledger_disagrees += 1
        outcome.delivered += 1
    delivered_ids = {
        e["attempts"][-1]["receipt"].get("message_id") for e in ledger.values() if e.get("attempts")
    }
    outcome.duplicated += sum(
        1 for mid in by_message_id if mid not in delivered_ids
    )  # mail no delivery owns
    for log in run.logs.glob("*.log"):
        if SFTP_PASSWORD in log.read_text(errors="replace"):
            outcome.secret_in_logs += 1
            outcome.notes.append(f"secret in {log.name}")
