"""Groups, office settings and office profiles in MongoDB: small versioned documents, written
conditionally on the version read (``{_id, version: v}``: no match means someone else wrote
first, StaleVersion)."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_clients.domain.errors import Conflict, FieldIssue, StaleVersion
from portal_clients.domain.office import (
    EVERYONE,
    Group,
    OfficeProfile,
    OfficeSettings,
    name_key,
    profile_changed,
    settings_changed,
)
from portal_contracts.envelope import Envelope
from portal_contracts.values import TransferMethod
from portal_servicekit.mongo import Session, is_duplicate_key
from portal_servicekit.runtime import Runtime

Document = dict[str, Any]
NAME_TAKEN = Conflict("group.conflict", [FieldIssue("name", "group.name_taken")])


def _group_id(office_id: str, group_id: str) -> str:
    return f"{office_id}:{group_id}"


def _group_doc(group: Group) -> Document:
    return {
        "_id": _group_id(group.office_id, group.group_id),
        "office_id": group.office_id,
        "group_id": group.group_id,
        "name": group.name,
        "name_key": name_key(group.name),
        "staff": sorted(group.staff),
        "version": group.version,
    }


def _group(doc: Document) -> Group:
    return Group(
        group_id=doc["group_id"],
        office_id=doc["office_id"],
        name=doc["name"],
        staff=set(doc.get("staff", [])),
        version=doc["version"],
    )


class MongoGroups:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.groups = db["groups"]

    async def prepare(self) -> None:
        await self.groups.create_index(
            [("office_id", ASCENDING), ("name_key", ASCENDING)], unique=True
        )

    async def all(self, office_id: str) -> list[Group]:
        docs = await self.groups.find({"office_id": office_id}).to_list()
        if not any(d["group_id"] == EVERYONE for d in docs):
            with contextlib.suppress(DuplicateKeyError):
                await self.groups.insert_one(_group_doc(Group.everyone(office_id)))
            docs = await self.groups.find({"office_id": office_id}).to_list()
        return sorted(
            (_group(d) for d in docs), key=lambda g: (not g.is_everyone, name_key(g.name))
        )

    async def add(self, group: Group) -> None:
        try:
            await self.groups.insert_one(_group_doc(group))
        except DuplicateKeyError as exc:
            raise NAME_TAKEN from exc

    async def save(self, group: Group, based_on: int) -> None:
        key = _group_id(group.office_id, group.group_id)
        try:
            saved = await self.groups.replace_one(
                {"_id": key, "version": based_on}, _group_doc(group)
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                raise NAME_TAKEN from exc
            raise
        if saved.matched_count == 0:
            current = await self.groups.find_one({"_id": key}, {"version": 1})
            raise StaleVersion(current["version"] if current else 0)

    async def delete(self, office_id: str, group_id: str) -> None:
        await self.groups.delete_one({"_id": _group_id(office_id, group_id)})


class _OfficeDocuments:
    """One document per office (``_id`` = office id): its body under ``field`` and its
    ``version``; each save puts its event in the outbox in the same transaction, so the others
    learn of every version."""

    def __init__(self, runtime: Runtime, collection: str, field: str) -> None:
        self.runtime = runtime
        self.collection = runtime.db[collection]
        self.field = field

    async def read(self, office_id: str) -> tuple[Document | None, int]:
        doc = await self.collection.find_one({"_id": office_id})
        return (None, 0) if doc is None else (doc[self.field], doc["version"])

    async def write(
        self, office_id: str, body: Document, event: Envelope[Any], expected_version: int
    ) -> int:
        version = expected_version + 1
        fields = {self.field: body, "version": version}

        async def work(session: Session) -> bool:
            if expected_version == 0:
                await self.collection.insert_one({"_id": office_id, **fields}, session=session)
            else:
                saved = await self.collection.update_one(
                    {"_id": office_id, "version": expected_version},
                    {"$set": fields},
                    session=session,
                )
                if not saved.matched_count:
                    return False
            await self.runtime.outbox.add([event], session=session)
            return True

        try:
            if await self.runtime.transaction(work):
                return version
        except Exception as exc:
            if not is_duplicate_key(exc):  # saved by someone else first
                raise
        _, current = await self.read(office_id)
        raise StaleVersion(current)


class MongoSettings:
    """``office_settings``, with OfficeSettingsChanged (delivery keeps the defaults)."""

    def __init__(self, runtime: Runtime) -> None:
        self.documents = _OfficeDocuments(runtime, "office_settings", "settings")

    async def get(self, office_id: str) -> tuple[OfficeSettings, int]:
        body, version = await self.documents.read(office_id)
        return (OfficeSettings() if body is None else OfficeSettings.model_validate(body)), version

    async def save(self, office_id: str, settings: OfficeSettings, expected_version: int) -> int:
        event = settings_changed(office_id, settings, expected_version + 1)
        body = settings.model_dump(mode="json")
        return await self.documents.write(office_id, body, event, expected_version)


class MongoProfiles:
    """``office_profiles``, with OfficeProfileChanged (invitations and delivery keep a copy)."""

    def __init__(self, runtime: Runtime) -> None:
        self.documents = _OfficeDocuments(runtime, "office_profiles", "profile")

    async def get(self, office_id: str) -> tuple[OfficeProfile | None, int]:
        body, version = await self.documents.read(office_id)
        return (None if body is None else OfficeProfile.model_validate(body)), version

    async def save(self, office_id: str, profile: OfficeProfile, expected_version: int) -> int:
        event = profile_changed(office_id, profile, expected_version + 1)
        body = profile.model_dump(mode="json")
        return await self.documents.write(office_id, body, event, expected_version)


class MongoConnectionNames:
    """``office_connections``: one document per office (``_id`` = office id), the names and kinds
    of ConnectionsChanged with its ``version``. An older or repeated event matches nothing: the
    filter asks for a lower version, and the upsert's E11000 means a newer one is stored."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["office_connections"]

    async def of(self, office_id: str) -> dict[str, TransferMethod] | None:
        doc = await self.collection.find_one({"_id": office_id})
        if doc is None:
            return None
        return {c["name"]: TransferMethod(c["kind"]) for c in doc["connections"]}

    async def keep_newest(
        self, office_id: str, version: int, connections: dict[str, TransferMethod]
    ) -> bool:
        body = {
            "version": version,
            "connections": [{"name": n, "kind": k.value} for n, k in sorted(connections.items())],
        }
        newer = {"_id": office_id, "version": {"$lt": version}}
        try:
            saved = await self.collection.update_one(newer, {"$set": body}, upsert=True)
        except DuplicateKeyError:
            # The filter missed and the upsert collided: a version as new is stored, or another
            # first list was inserted at this moment — then this one may still be newer.
            saved = await self.collection.update_one(newer, {"$set": body})
            return bool(saved.modified_count)
        return bool(saved.modified_count or saved.upserted_id is not None)
