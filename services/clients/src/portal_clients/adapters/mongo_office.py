"""Groups, office settings and pending VAT re-checks in MongoDB (small collections)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from portal_clients.adapters.locks import Leases
from portal_clients.domain.errors import Conflict, FieldIssue, StaleVersion
from portal_clients.domain.office import Group, OfficeSettings, name_key
from portal_clients.ports import PendingCheck
from portal_servicekit.mongo import is_duplicate_key

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
    def __init__(self, db: AsyncDatabase[Document], leases: Leases) -> None:
        self.groups = db["groups"]
        self.leases = leases

    async def ensure_indexes(self) -> None:
        await self.groups.create_index(
            [("office_id", ASCENDING), ("name_key", ASCENDING)], unique=True
        )

    async def all(self, office_id: str) -> list[Group]:
        docs = await self.groups.find({"office_id": office_id}).to_list()
        if not any(d["group_id"] == "everyone" for d in docs):
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

    @contextlib.asynccontextmanager
    async def edit(self, office_id: str, group_id: str) -> AsyncIterator[Group | None]:
        key = _group_id(office_id, group_id)
        async with self.leases.hold(f"group:{key}"):
            doc = await self.groups.find_one({"_id": key})
            if doc is None:
                yield None
                return
            group = _group(doc)
            yield group
            if group.version != doc["version"]:
                try:
                    await self.groups.replace_one({"_id": key}, _group_doc(group))
                except Exception as exc:
                    if is_duplicate_key(exc):
                        raise NAME_TAKEN from exc
                    raise

    async def delete(self, office_id: str, group_id: str) -> None:
        await self.groups.delete_one({"_id": _group_id(office_id, group_id)})


class MongoSettings:
    def __init__(self, db: AsyncDatabase[Document], leases: Leases) -> None:
        self.settings = db["office_settings"]
        self.leases = leases

    async def get(self, office_id: str) -> tuple[OfficeSettings, int]:
        doc = await self.settings.find_one({"_id": office_id})
        if doc is None:
            return OfficeSettings(), 0
        return OfficeSettings.model_validate(doc["settings"]), doc["version"]

    async def save(self, office_id: str, settings: OfficeSettings, expected_version: int) -> int:
        async with self.leases.hold(f"settings:{office_id}"):
            _, current = await self.get(office_id)
            if current != expected_version:
                raise StaleVersion(current)
            doc = {
                "_id": office_id,
                "settings": settings.model_dump(mode="json"),
                "version": current + 1,
            }
            await self.settings.replace_one({"_id": office_id}, doc, upsert=True)
            return current + 1


class MongoRechecks:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.rechecks = db["vat_rechecks"]

    async def schedule(self, check: PendingCheck) -> None:
        await self.rechecks.replace_one(
            {"_id": check.client_id},
            {
                "_id": check.client_id,
                "vat_number": check.vat_number,
                "attempts": check.attempts,
                "due_at": check.due_at,
                "import_ref": check.import_ref,
            },
            upsert=True,
        )

    async def schedule_many(self, checks: list[PendingCheck]) -> None:
        docs = [
            {
                "_id": c.client_id,
                "vat_number": c.vat_number,
                "attempts": c.attempts,
                "due_at": c.due_at,
            }
            for c in checks
        ]
        for start in range(0, len(docs), 500):
            try:
                await self.rechecks.insert_many(docs[start : start + 500], ordered=False)
            except BulkWriteError:
                pass  # already scheduled by an earlier delivery of the same chunk

    async def due(self, now: datetime, limit: int) -> list[PendingCheck]:
        docs = await self.rechecks.find({"due_at": {"$lte": now}}).limit(limit).to_list()
        return [
            PendingCheck(
                client_id=d["_id"],
                vat_number=d["vat_number"],
                attempts=d["attempts"],
                due_at=d["due_at"] if d["due_at"].tzinfo else d["due_at"].replace(tzinfo=UTC),
                import_ref=d.get("import_ref", ""),
            )
            for d in docs
        ]

    async def drop(self, client_id: str) -> None:
        await self.rechecks.delete_one({"_id": client_id})
