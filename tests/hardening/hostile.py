"""What one row of the hostile-input table (:mod:`tests.hardening.test_hostile_inputs`) is, and
how it is checked: the answer (a 4xx problem+json with its code, naming the field), the time
(< 2 s), the memory (< 64 MB more at peak) and that nothing changed (the service's MongoDB
collections, counts and a hash of every document, and the end offsets of every Kafka topic of
the run, before and after)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import bson
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from portal_contracts.identity import Caller, Role, claims_of, issue_token
from tests.hardening.apps import JWT_KEY, bearer
from tests.hardening.test_auth_before_body import WRONG_KEY
from tests.hardening.test_memory import PeakRss
from tests.hardening.wire import MiB, Sent, send

MAX_SECONDS = 2.0
MAX_EXTRA_RSS = 64 * MiB
PROBLEM_KEYS = {"type", "title", "status", "code", "instance", "errors"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _caller(office: str = "office-h", **kw: Any) -> Caller:
    return Caller(office_id=office, user_id=kw.pop("user", "u-h"), role=Role.ADMIN, **kw)


def expired_token() -> dict[str, str]:
    return {"authorization": f"Bearer {issue_token(_caller(), JWT_KEY, timedelta(hours=-1))}"}


def forged_token() -> dict[str, str]:
    """A good token of office-h whose payload now says office-x; the signature kept."""
    head, _, signature = issue_token(_caller(), JWT_KEY).split(".")
    claims = {k: v for k, v in claims_of(_caller("office-x")).items() if k not in ("iat", "exp")}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 3600}
    return {"authorization": f"Bearer {head}.{_b64(claims)}.{signature}"}


def unsigned_token() -> dict[str, str]:
    """``alg: none``: no signature at all."""
    claims = claims_of(_caller())
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 3600}
    return {"authorization": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."}


def staff_token(*groups: str, office: str = "office-h") -> dict[str, str]:
    caller = Caller(office_id=office, user_id="u-staff", role=Role.STAFF, groups=groups)
    return {"authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}


TOKENS: dict[str, dict[str, str]] = {
    "expired-token": expired_token(),
    "forged-signature": forged_token(),
    "alg-none": unsigned_token(),
    "other-key": bearer(key=WRONG_KEY),
}


@dataclass(frozen=True)
class Row:
    """One hostile request to one endpoint and the answer it must get.

    ``params`` fill the path (over the seeded ids of the office, ``{...}`` else ``missing-1``);
    ``headers`` replace the admin token of office-h; ``field`` must be named in ``errors``;
    ``body["made"]``, a function of the seeds, makes the body when it is sent (a stream, a big
    file, an id of office-h)."""

    kind: str
    status: int
    code: str | None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, Any] | str | None = None  # "agent": the seeded agent key of office-h
    body: dict[str, Any] = field(default_factory=dict)  # send()'s json / content / data / files
    query: str = ""
    field: str | None = None
    method: str | None = None
    allowed: frozenset[str] = frozenset()  # collections this refusal may write (a throttle)


def tokens(code: str = "auth.invalid") -> list[Row]:
    """The four bad tokens: each 401 before anything is read."""
    return [Row(kind, 401, code, headers=h) for kind, h in TOKENS.items()]


def path_of(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m[1], "missing-1"), template)


async def snapshot(db: Any) -> dict[str, tuple[int, str]]:
    """Every collection's count and a hash of its documents in ``_id`` order."""
    found: dict[str, tuple[int, str]] = {}
    for name in sorted(await db.list_collection_names()):
        digest, count = hashlib.sha256(), 0
        async for document in db[name].find({}, sort=[("_id", 1)]):
            digest.update(bson.encode(document))
            count += 1
        found[name] = (count, digest.hexdigest()[:16])
    return found


@dataclass
class Watch:
    """The run's MongoDB databases and Kafka topics, to see that a request changed nothing."""

    mongo: AsyncMongoClient[Any]
    kafka: AIOKafkaConsumer
    databases: dict[str, str]  # service → its database
    prefix: str

    async def offsets(self) -> dict[str, int]:
        topics = [t for t in await self.kafka.topics() if t.startswith(self.prefix)]
        parts = [
            TopicPartition(t, p) for t in topics for p in self.kafka.partitions_for_topic(t) or ()
        ]
        ends = await self.kafka.end_offsets(parts) if parts else {}
        return {f"{tp.topic}/{tp.partition}": offset for tp, offset in ends.items()}

    async def state(self, service: str) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
        return await snapshot(self.mongo[self.databases[service]]), await self.offsets()


def _body(row: Row, seeds: dict[str, str]) -> dict[str, Any]:
    body = {k: v for k, v in row.body.items() if k != "made"}
    if "made" in row.body:
        body |= row.body["made"](seeds)
    return body


def _told(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


def _headers(row: Row, seeds: dict[str, str]) -> dict[str, Any]:
    if row.headers == "agent":
        return {"authorization": f"Bearer {seeds['agent']}"}
    return bearer() if row.headers is None else dict(row.headers)


def _answer_wrong(row: Row, sent: Sent) -> list[str]:
    """What is wrong with the answer itself: status, code, media type, the field named."""
    wrong = []
    ctype = sent.response.headers.get("content-type", "")
    outcome = (sent.status, sent.code)
    if outcome != (row.status, row.code or sent.code):
        text = sent.response.text[:300]
        wrong.append(f"answered {outcome}, not {(row.status, row.code)}: {text}")
    if not ctype.startswith("application/problem+json") and sent.status >= 400:
        wrong.append(f"answered {ctype!r}, not problem+json: {sent.response.text[:200]}")
    if sent.status >= 400 and not (sent.problem.get("title") and sent.code):
        wrong.append(f"no title or code: {sent.problem}")
    if sent.problem and not set(sent.problem) <= PROBLEM_KEYS:
        wrong.append(f"says more than a problem: {sorted(set(sent.problem) - PROBLEM_KEYS)}")
    if row.field is not None:
        named = [e.get("field") for e in sent.problem.get("errors", [])]
        if row.field not in named:
            wrong.append(f"does not name {row.field!r}: {named}")
    return wrong


async def _leak_wrong(
    app: FastAPI, method: str, template: str, row: Row, seeds: dict[str, str], sent: Sent
) -> list[str]:
    """Another office's id must be answered as an id that exists nowhere (all but instance)."""
    numbers = {k: v for k, v in seeds.items() if v.isdigit()}  # a row number is no one's
    missing = await send(
        app, method, path_of(template, numbers), headers=_headers(row, seeds), **_body(row, seeds)
    )
    if (missing.status, _told(missing.problem)) != (sent.status, _told(sent.problem)):
        return [f"differs from a missing id's: {sent.problem} vs {missing.problem}"]
    return []


async def check(
    app: FastAPI,
    service: str,
    method: str,
    template: str,
    row: Row,
    seeds: dict[str, str],
    watch: Watch,
) -> list[str]:
    """What is wrong with the app's answer to ``row`` (nothing: an empty list)."""
    method = row.method or method
    path = path_of(template, {**seeds, **row.params}) + (f"?{row.query}" if row.query else "")
    before = await watch.state(service)
    started = time.perf_counter()
    with PeakRss() as rss:
        try:
            sent = await send(app, method, path, headers=_headers(row, seeds), **_body(row, seeds))
        except Exception as exc:  # what a server answers 500 to
            return [f"{row.kind}: raised {exc!r}"]
    elapsed = time.perf_counter() - started
    after = await watch.state(service)
    wrong = _answer_wrong(row, sent)
    if row.kind == "other-office":
        wrong += await _leak_wrong(app, method, template, row, seeds, sent)
    if elapsed > MAX_SECONDS:
        wrong.append(f"took {elapsed:.2f} s")
    if rss.peak - rss.before > MAX_EXTRA_RSS:
        wrong.append(f"took {(rss.peak - rss.before) / MiB:.0f} MB more memory at peak")
    changed = {k for k in {*before[0], *after[0]} if before[0].get(k) != after[0].get(k)}
    if changed - row.allowed:
        wrong.append(f"changed collections {sorted(changed)}")
    if after[1] != before[1]:
        wrong.append("published to Kafka")
    return [f"{row.kind}: {w}" for w in wrong]
