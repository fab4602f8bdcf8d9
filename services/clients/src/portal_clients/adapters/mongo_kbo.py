"""The KBO enterprises as loaded from the Open Data extracts, in MongoDB.

``kbo_enterprises``: one document per enterprise, ``_id`` = the ten-digit number, with
``status``, ``situation``, ``type``, ``form``, ``start_date`` (ISO date or absent) and
``extract`` (the number of the extract that wrote it; indexed).
``kbo_extracts``: one document per extract loaded, ``_id`` = its number, with its meta, the
``state`` (``loading`` until every row is written, then ``applied``; an interrupted load a
later full extract replaced: ``superseded``) and the counts.

No transaction: a full extract is two million rows, far beyond one. Instead every step can be
done again with the same result: rows are written with ``replace_one(upsert)`` by their number
(bulk, unordered), a full extract then deletes what it did not write (``extract`` below its
number), an update deletes its deleted numbers then writes its inserted rows. An interrupted
load is finished by loading the same extract again (``domain/kbo.may_apply`` refuses any
other meanwhile). While a load runs, readers see a mix of the old and new rows of single
enterprises, never a half-written one (a document write is atomic).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from portal_clients.domain.kbo import Enterprise, ExtractMeta, ExtractType

Document = dict[str, Any]
LOADING, APPLIED, SUPERSEDED = "loading", "applied", "superseded"


class MongoKbo:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        recheck_loaded_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enterprises = db["kbo_enterprises"]
        self.extracts = db["kbo_extracts"]
        # Once an extract is applied it stays (a full one replaces it): "loaded" is kept for
        # good; "not loaded yet" is asked again after ``recheck_loaded_s`` (the loader is
        # another process), so the register does not pay a second round trip per check.
        self._loaded = False
        self._not_loaded_at: float | None = None
        self._recheck_loaded_s = recheck_loaded_s
        self._clock = clock

    async def prepare(self) -> None:
        await self.enterprises.create_index([("extract", ASCENDING)], name="extract")
        await self.extracts.create_index(
            [("state", ASCENDING), ("number", DESCENDING)], name="state_number"
        )

    # --- the register's reads ------------------------------------------------------------------

    async def find(self, number: str) -> Enterprise | None:
        doc = await self.enterprises.find_one({"_id": number})
        return _enterprise(doc) if doc else None

    async def extract_loaded(self) -> bool:
        if self._loaded:
            return True
        asked = self._not_loaded_at
        if asked is not None and self._clock() - asked < self._recheck_loaded_s:
            return False
        self._loaded = await self.extracts.find_one({"state": APPLIED}) is not None
        self._not_loaded_at = None if self._loaded else self._clock()
        return self._loaded

    # --- the loader's writes -------------------------------------------------------------------

    async def last(self, state: str) -> ExtractMeta | None:
        doc = await self.extracts.find_one({"state": state}, sort=[("number", DESCENDING)])
        return _meta(doc) if doc else None

    async def begin(self, meta: ExtractMeta, now: datetime) -> None:
        await self.extracts.update_one(
            {"_id": meta.number},
            {
                "$set": {**_meta_document(meta), "state": LOADING, "started_at": now},
                "$unset": {"applied_at": ""},
            },
            upsert=True,
        )

    async def write(self, enterprises: list[Enterprise], extract_number: int) -> None:
        await self.enterprises.bulk_write(
            [
                ReplaceOne({"_id": e.number}, _document(e, extract_number), upsert=True)
                for e in enterprises
            ],
            ordered=False,  # rows are independent: the server may apply them in any order
        )

    async def delete(self, numbers: list[str]) -> int:
        result = await self.enterprises.delete_many({"_id": {"$in": numbers}})
        return result.deleted_count

    async def delete_older_than(self, extract_number: int) -> int:
        """After a full extract: what it did not write is no longer in the register."""
        result = await self.enterprises.delete_many({"extract": {"$lt": extract_number}})
        return result.deleted_count

    async def applied(self, meta: ExtractMeta, counts: dict[str, int], now: datetime) -> None:
        await self.extracts.update_one(
            {"_id": meta.number},
            {"$set": {"state": APPLIED, "applied_at": now, "counts": counts}},
        )
        if meta.type is ExtractType.FULL:  # an interrupted older load is void now
            await self.extracts.update_many(
                {"state": LOADING, "_id": {"$ne": meta.number}},
                {"$set": {"state": SUPERSEDED, "superseded_by": meta.number}},
            )
        self._loaded = True


def _document(e: Enterprise, extract_number: int) -> Document:
    doc: Document = {
        "_id": e.number,
        "status": e.status,
        "situation": e.juridical_situation,
        "type": e.type_of_enterprise,
        "extract": extract_number,
    }
    if e.juridical_form:
        doc["form"] = e.juridical_form
    if e.start_date:
        doc["start_date"] = e.start_date.isoformat()
    return doc


def _enterprise(doc: Document) -> Enterprise:
    start = doc.get("start_date")
    return Enterprise(
        number=doc["_id"],
        status=doc["status"],
        juridical_situation=doc["situation"],
        type_of_enterprise=doc["type"],
        juridical_form=doc.get("form"),
        start_date=date.fromisoformat(start) if start else None,
    )


def _meta_document(meta: ExtractMeta) -> Document:
    return {
        "number": meta.number,
        "type": meta.type.value,
        "snapshot_date": meta.snapshot_date.isoformat(),
        "extract_timestamp": meta.extract_timestamp,
    }


def _meta(doc: Document) -> ExtractMeta:
    return ExtractMeta(
        number=doc["number"],
        type=ExtractType(doc["type"]),
        snapshot_date=date.fromisoformat(doc["snapshot_date"]),
        extract_timestamp=doc.get("extract_timestamp", ""),
    )
