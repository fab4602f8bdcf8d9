"""An office's connections in MongoDB (``connections``, ``_id`` = office:name), their secrets
sealed (adapters/secrets.py), and the office's e-mail sending identity (``email_identities``).

Saving or deleting a connection and announcing the office's connection names
(ConnectionsChanged, names and kinds only) are one transaction; the announcement's version is a
counter per office (``connection_versions``, ``$inc`` in the same transaction), so consumers keep
the newest list. Deleting an agent connection deletes its agent keys in the same transaction
(the agent is refused from that commit on). An office has at most one OneDrive and one
Clearfacts connection (their clients name none): the unique partial index ``office_sole_kind``
on ``{office_id, sole}``, ``sole`` set only on those kinds.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from pymongo import ReturnDocument

from portal_contracts.delivery import ConnectionName, ConnectionsChanged, ConnectionsChangedPayload
from portal_delivery.adapters.secrets import SecretBox
from portal_delivery.domain.connections import (
    CHANNEL,
    SOLE_KIND,
    Connection,
    EmailIdentity,
    Kind,
)
from portal_delivery.ports import ConnectionKindTaken, ConnectionNameTaken, Stale
from portal_servicekit.mongo import Document, Session, duplicate_index, is_duplicate_key
from portal_servicekit.runtime import Runtime

SOLE = frozenset(SOLE_KIND.values())


def _key(office_id: str, name: str) -> str:
    return f"{office_id}:{name.casefold()}"


class MongoConnections:
    def __init__(self, runtime: Runtime, box: SecretBox) -> None:
        self.runtime = runtime
        self.collection = runtime.db["connections"]
        self.versions = runtime.db["connection_versions"]
        self.identities = runtime.db["email_identities"]
        self.box = box

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("office_id")
        await self.collection.create_index(
            [("office_id", 1), ("sole", 1)],
            name="office_sole_kind",
            unique=True,
            partialFilterExpression={"sole": {"$exists": True}},
        )

    async def sole(self, office_id: str, kind: Kind) -> Connection | None:
        doc = await self.collection.find_one({"office_id": office_id, "sole": kind.value})
        return self._connection(doc) if doc else None

    async def get(self, office_id: str, name: str) -> Connection | None:
        doc = await self.collection.find_one({"_id": _key(office_id, name)})
        return self._connection(doc) if doc else None

    async def all(self, office_id: str) -> list[Connection]:
        cursor = self.collection.find({"office_id": office_id}).sort("name", 1)
        return [self._connection(doc) async for doc in cursor]

    async def save(self, connection: Connection, expected_version: int) -> Connection:
        doc = self._document(connection, expected_version + 1)

        async def work(session: Session) -> None:
            if expected_version == 0:
                await self.collection.insert_one(doc, session=session)
            else:
                result = await self.collection.replace_one(
                    {"_id": doc["_id"], "version": expected_version}, doc, session=session
                )
                if result.matched_count == 0:
                    raise Stale(connection.name)
            await self._announce(connection.office_id, session)

        try:
            await self.runtime.transaction(work)
        except Exception as exc:
            if is_duplicate_key(exc) and duplicate_index(exc) == "office_sole_kind":
                raise ConnectionKindTaken(connection.kind.value) from exc
            if is_duplicate_key(exc):
                raise ConnectionNameTaken(connection.name) from exc
            raise
        connection.version = expected_version + 1
        return connection

    async def delete(self, office_id: str, name: str, expected_version: int) -> None:
        async def work(session: Session) -> None:
            result = await self.collection.delete_one(
                {"_id": _key(office_id, name), "version": expected_version}, session=session
            )
            if result.deleted_count == 0:
                raise Stale(name)
            await self.runtime.db["agent_keys"].delete_many(
                {"office_id": office_id, "connection": name.casefold()}, session=session
            )
            await self._announce(office_id, session)

        await self.runtime.transaction(work)

    async def _announce(self, office_id: str, session: Session) -> None:
        counter = await self.versions.find_one_and_update(
            {"_id": office_id},
            {"$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        names = [
            ConnectionName(name=doc["name"], kind=CHANNEL[Kind(doc["kind"])])
            async for doc in self.collection.find({"office_id": office_id}, session=session)
        ]
        event = ConnectionsChanged.new(
            office_id=office_id,
            payload=ConnectionsChangedPayload(
                version=counter["version"] if counter else 1, connections=names
            ),
        )
        await self.runtime.outbox.add([event], session=session)

    async def identity(self, office_id: str) -> EmailIdentity | None:
        doc = await self.identities.find_one({"_id": office_id})
        if doc is None:
            return None
        return EmailIdentity(office_id, doc["sender"], doc.get("display_name", ""), doc["version"])

    async def save_identity(self, identity: EmailIdentity) -> EmailIdentity:
        doc = await self.identities.find_one_and_update(
            {"_id": identity.office_id},
            {
                "$set": {"sender": identity.sender, "display_name": identity.display_name},
                "$inc": {"version": 1},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # noqa: S101 - an upsert returning the document after it
        return EmailIdentity(identity.office_id, doc["sender"], doc["display_name"], doc["version"])

    def _context(self, office_id: str, name: str, key: str) -> str:
        return f"{office_id}/{name.casefold()}/{key}"

    def _document(self, c: Connection, version: int) -> Document:
        sole = {"sole": c.kind.value} if c.kind in SOLE else {}
        return {
            **sole,
            "_id": _key(c.office_id, c.name),
            "office_id": c.office_id,
            "name": c.name,
            "kind": c.kind.value,
            "settings": c.settings,
            "secrets": {
                k: self.box.seal(v, context=self._context(c.office_id, c.name, k))
                for k, v in c.secrets.items()
                if v
            },
            "version": version,
        }

    def _connection(self, doc: Document) -> Connection:
        secrets: dict[str, Any] = doc.get("secrets", {})
        return Connection(
            office_id=doc["office_id"],
            name=doc["name"],
            kind=Kind(doc["kind"]),
            settings=dict(doc["settings"]),
            secrets={
                k: self.box.open(v, context=self._context(doc["office_id"], doc["name"], k))
                for k, v in secrets.items()
            },
            version=doc["version"],
        )


class CachedConnections:
    """A channel worker's view of the connections: reads kept ``ttl_s`` seconds (a worker looks
    up the same few connections for every delivery), writes passed through. An edit reaches the
    workers within ``ttl_s``; a session opened with older settings is never reused (the channel
    keys its sessions by the connection's version)."""

    def __init__(self, store: MongoConnections, ttl_s: float = 10.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._connections: dict[tuple[str, str], tuple[float, Connection | None]] = {}
        self._identities: dict[str, tuple[float, EmailIdentity | None]] = {}

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()

    async def get(self, office_id: str, name: str) -> Connection | None:
        key, now = (office_id, name.casefold()), time.monotonic()
        cached = self._connections.get(key)
        if cached is None or now - cached[0] > self.ttl_s:
            cached = (now, await self.store.get(office_id, name))
            self._connections[key] = cached
        return copy.deepcopy(cached[1])

    async def identity(self, office_id: str) -> EmailIdentity | None:
        now = time.monotonic()
        cached = self._identities.get(office_id)
        if cached is None or now - cached[0] > self.ttl_s:
            cached = (now, await self.store.identity(office_id))
            self._identities[office_id] = cached
        return cached[1]

    async def all(self, office_id: str) -> list[Connection]:
        return await self.store.all(office_id)

    async def sole(self, office_id: str, kind: Kind) -> Connection | None:
        key, now = (office_id, f"\x00{kind.value}"), time.monotonic()
        cached = self._connections.get(key)
        if cached is None or now - cached[0] > self.ttl_s:
            cached = (now, await self.store.sole(office_id, kind))
            self._connections[key] = cached
        return copy.deepcopy(cached[1])

    async def save(self, connection: Connection, expected_version: int) -> Connection:
        return await self.store.save(connection, expected_version)

    async def delete(self, office_id: str, name: str, expected_version: int) -> None:
        await self.store.delete(office_id, name, expected_version)

    async def save_identity(self, identity: EmailIdentity) -> EmailIdentity:
        return await self.store.save_identity(identity)
