"""The delivery ledger in MongoDB: collection ``deliveries``, one document per delivery.

How it keeps its promises:
- ``_id`` is the delivery id, a hash of the document and the target: a replayed DocumentReady
  inserts nothing new (``insert_many(ordered=False)``, E11000 on ``_id`` = already planned).
- Every change is ``replace_one({_id, version})`` plus its events in the service's outbox, in ONE
  transaction: two writers cannot both win, and a state and its DocumentDelivered/DeliveryFailed
  or DeliveryRequested commit together.
- Due times live here, not in Kafka: ``{state, due_at}`` is indexed and the scheduler claims
  due deliveries with ``find_one_and_update`` sorted by ``due_at`` (servicekit ``claim_due``) —
  inside the transaction that writes the request, so a claim and its request commit together.
  A dispatched or sending delivery whose lease ran out is due again (a lost request, a worker
  that died mid-attempt).
- Lists are indexed queries paged by ``(created_at, _id)`` descending within an office.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError

from portal_contracts.values import DocumentKind, TransferMethod
from portal_delivery.domain.delivery import (
    OPEN,
    Attempt,
    Delivery,
    FileRef,
    Problem,
    State,
)
from portal_delivery.ports import DeliveryQuery, Stale
from portal_servicekit.leases import claim_due
from portal_servicekit.mongo import Document, Session, is_duplicate_key
from portal_servicekit.runtime import Runtime

DUE = [State.SCHEDULED.value, State.DISPATCHED.value, State.SENDING.value]


class MongoLedger:
    def __init__(self, runtime: Runtime, *, owner: str = "scheduler") -> None:
        self.runtime = runtime
        self.collection = runtime.db["deliveries"]
        self.owner = owner

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self.collection.create_index(
            [("office_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]
        )
        for key in ("client_id", "document_id"):
            await self.collection.create_index(
                [("office_id", ASCENDING), (key, ASCENDING), ("created_at", DESCENDING)]
            )
        await self.collection.create_index([("office_id", ASCENDING), ("state", ASCENDING)])

    async def add(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        if not deliveries:
            return []
        ids = [d.delivery_id for d in deliveries]

        async def work(session: Session) -> list[Delivery]:
            known = {
                doc["_id"]
                async for doc in self.collection.find(
                    {"_id": {"$in": ids}}, {"_id": 1}, session=session
                )
            }
            new = [d for d in deliveries if d.delivery_id not in known]
            if new:
                for delivery in new:
                    delivery.version = 1
                await self.collection.insert_many([to_document(d) for d in new], session=session)
                await self.runtime.outbox.add(
                    [e for d in new for e in d.pull_events()], session=session
                )
            return new

        for _ in range(3):
            try:
                return await self.runtime.transaction(work)
            except BulkWriteError as exc:
                if not is_duplicate_key(exc):
                    raise
                # Another planner (a rebalance) stored some of them between our read and our
                # insert: the whole transaction was undone; read again and store the rest.
        raise RuntimeError("deliveries kept colliding with another planner's")

    async def get(self, delivery_id: str) -> Delivery | None:
        doc = await self.collection.find_one({"_id": delivery_id})
        return from_document(doc) if doc else None

    async def save(self, delivery: Delivery) -> None:
        if delivery.events:

            async def work(session: Session) -> None:
                await self._save(delivery, session)

            await self.runtime.transaction(work)
        else:  # one document and nothing to announce: a conditional replace is atomic alone
            await self._replace(delivery, None)
        delivery.version += 1
        delivery.pull_events()

    async def save_all(self, deliveries: Sequence[Delivery]) -> None:
        """Several deliveries, each at its loaded version, and all their events: one transaction
        (an agent acknowledging a page of items); :class:`Stale` undoes every one of them."""

        async def work(session: Session) -> None:
            for delivery in deliveries:
                await self._replace(delivery, session)
            await self.runtime.outbox.add(
                [e for d in deliveries for e in d.events], session=session
            )

        await self.runtime.transaction(work)
        for delivery in deliveries:
            delivery.version += 1
            delivery.pull_events()

    async def _save(self, delivery: Delivery, session: Session) -> None:
        await self._replace(delivery, session)
        await self.runtime.outbox.add(list(delivery.events), session=session)

    async def _replace(self, delivery: Delivery, session: Session | None) -> None:
        result = await self.collection.replace_one(
            {"_id": delivery.delivery_id, "version": delivery.version},
            to_document(delivery, version=delivery.version + 1),
            session=session,
        )
        if result.matched_count == 0:
            raise Stale(delivery.delivery_id)

    async def hold(self, delivery: Delivery, until: datetime) -> bool:
        result = await self.collection.update_one(
            {
                "_id": delivery.delivery_id,
                "version": delivery.version,
                "state": State.SENDING.value,
            },
            {"$set": {"due_at": until}},
        )
        return result.modified_count == 1

    async def note(self, delivery: Delivery, key: str, value: Any) -> bool:
        index = len(delivery.attempts) - 1
        result = await self.collection.update_one(
            {
                "_id": delivery.delivery_id,
                "version": delivery.version,
                "state": State.SENDING.value,
            },
            {"$set": {f"attempts.{index}.progress.{key}": value}},
        )
        delivery.attempts[index].progress[key] = value  # the next save writes it again
        return result.matched_count == 1

    async def dispatch_due(self, now: datetime, lease: timedelta, limit: int) -> int:
        dispatched = 0
        for _ in range(limit):

            async def work(session: Session) -> bool:
                claimed = await claim_due(
                    self.collection,
                    {"state": {"$in": DUE}},
                    now=now,
                    lease=lease,
                    owner=self.owner,
                    session=session,
                )
                if claimed is None:
                    return False
                delivery = from_document(claimed)
                delivery.dispatch(now, lease)
                await self._save(delivery, session)
                return True

            if not await self.runtime.transaction(work):
                break
            dispatched += 1
        return dispatched

    async def page(self, query: DeliveryQuery) -> list[Delivery]:
        clauses: list[dict[str, Any]] = [{"office_id": query.office_id}]
        for key in ("client_id", "document_id"):
            value = getattr(query, key)
            if value is not None:
                clauses.append({key: value})
        if query.states:
            clauses.append({"state": {"$in": sorted(s.value for s in query.states)}})
        if query.visible_groups is not None:
            clauses.append({"group_id": {"$in": sorted(query.visible_groups)}})
        if query.after is not None:
            at, last = query.after
            clauses.append(
                {"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last}}]}
            )
        cursor = (
            self.collection.find({"$and": clauses})
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(query.limit)
        )
        return [from_document(doc) async for doc in cursor]

    async def open_of_client(self, office_id: str, client_id: str) -> list[Delivery]:
        return await self._open({"office_id": office_id, "client_id": client_id})

    async def open_of_office(self, office_id: str) -> list[Delivery]:
        return await self._open({"office_id": office_id})

    async def _open(self, match: dict[str, Any]) -> list[Delivery]:
        cursor = self.collection.find({**match, "state": {"$in": [s.value for s in OPEN]}})
        return [from_document(doc) async for doc in cursor]


def to_document(d: Delivery, version: int | None = None) -> Document:
    return {
        "_id": d.delivery_id,
        "office_id": d.office_id,
        "client_id": d.client_id,
        "group_id": d.group_id,
        "document_id": d.document_id,
        "kind": d.kind.value,
        "channel": d.channel.value,
        "destination": d.destination,
        "destination_key": d.destination.casefold(),  # an agent's feed: {office, connection}
        "folder": d.folder,
        "files": [vars(f) for f in d.files],
        "state": d.state.value,
        "due_at": d.due_at,
        "created_at": d.created_at,
        "timing": d.timing,
        "correlation_id": d.correlation_id,
        "ready_at": d.ready_at,
        "package": d.package,
        "attempts": [vars(a) for a in d.attempts],
        "last_problem": None
        if d.last_problem is None
        else {
            "code": d.last_problem.code,
            "detail": d.last_problem.detail,
            "retryable": d.last_problem.retryable,
        },
        "failures_in_row": d.failures_in_row,
        "version": d.version if version is None else version,
    }


def from_document(doc: Document) -> Delivery:
    problem = doc.get("last_problem")
    return Delivery(
        delivery_id=doc["_id"],
        office_id=doc["office_id"],
        client_id=doc["client_id"],
        group_id=doc["group_id"],
        document_id=doc["document_id"],
        kind=DocumentKind(doc["kind"]),
        channel=TransferMethod(doc["channel"]),
        destination=doc["destination"],
        folder=doc["folder"],
        files=[FileRef(**f) for f in doc["files"]],
        state=State(doc["state"]),
        due_at=doc.get("due_at"),
        created_at=doc["created_at"],
        timing=doc.get("timing", {}),
        correlation_id=doc["correlation_id"],
        ready_at=doc.get("ready_at"),
        package=doc.get("package", ""),
        attempts=[Attempt(**a) for a in doc.get("attempts", [])],
        last_problem=None
        if problem is None
        else Problem(problem["code"], problem.get("detail", ""), problem.get("retryable", True)),
        failures_in_row=doc.get("failures_in_row", 0),
        version=doc["version"],
    )
